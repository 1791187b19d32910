/** The links a node of a List carries itself. */
export interface Linked<T> {
  prev: T | undefined;
  next: T | undefined;
}

/**
 * Intrusive doubly linked list: O(1) push at both ends and O(1) removal from the middle
 * (a cancelled waiter, an idle session closed by its peer). WHY intrusive: the hot path
 * (acquire of an idle session, release) must not allocate, and there are no array shifts.
 */
export class List<T extends Linked<T>> {
  #head: T | undefined = undefined;
  #tail: T | undefined = undefined;
  #size = 0;

  get head(): T | undefined {
    return this.#head;
  }

  get tail(): T | undefined {
    return this.#tail;
  }

  get size(): number {
    return this.#size;
  }

  pushHead(n: T): void {
    n.prev = undefined;
    n.next = this.#head;
    if (this.#head) this.#head.prev = n; else this.#tail = n;
    this.#head = n;
    this.#size++;
  }

  pushTail(n: T): void {
    n.next = undefined;
    n.prev = this.#tail;
    if (this.#tail) this.#tail.next = n; else this.#head = n;
    this.#tail = n;
    this.#size++;
  }

  remove(n: T): void {
    if (n.prev) n.prev.next = n.next; else this.#head = n.next;
    if (n.next) n.next.prev = n.prev; else this.#tail = n.prev;
    n.prev = n.next = undefined;
    this.#size--;
  }
}

/**
 * The NETCONF side of a simulated device (RFC 6241 over RFC 6242): what answers the `netconf`
 * subsystem of the simulator's SSH server. Checked by a third-party client (Debian's
 * python3-ncclient, test/netconf-ncclient.test.ts), so it is not only a mirror of our driver.
 *
 * - hello: base:1.0 and (unless `netconfFraming: '1.0'`) base:1.1, writable-running, candidate,
 *   a session-id; chunked framing after the hellos when the client also offers base:1.1.
 * - get-config (running | candidate), get (config plus a little state; an empty subtree filter
 *   selects nothing, RFC 6241 §6.4.2), edit-config (top-level elements of <config> replace the
 *   stored ones, in memory, shared by every session of the device), lock / unlock / commit /
 *   discard-changes / validate / kill-session (<ok/>), close-session (<ok/> then the channel ends).
 * - anything else: <rpc-error> operation-not-supported, severity error.
 * - faults: `hang` never replies; with `hostile`, <sim-garbage/> answers bytes that are no framing
 *   and <sim-huge-chunk/> announces a 4 GB chunk (clients must fail cleanly).
 */
import type { ServerChannel } from 'ssh2';
import { encodeMessage, FrameDecoder, FramingError, type Framing } from '../drivers/netconf/framing.js';
import { scanTags, XmlScanError } from '../drivers/netconf/xml-scan.js';
import type { DeviceCtx } from './options.js';

const NS = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const BASE_10 = 'urn:ietf:params:netconf:base:1.0';
const BASE_11 = 'urn:ietf:params:netconf:base:1.1';
/** Largest message the simulator reads (a bound, like any server has). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

let nextSessionId = 1;

/** The device's stored configuration: top-level elements by name, in order. Shared by its sessions. */
export class SimNetconfStore {
  readonly running = new Map<string, string>();
  candidate = new Map<string, string>();

  constructor(hostname: string, interfaces: number) {
    this.running.set('system', `<system xmlns="urn:example:system"><hostname>${hostname}</hostname><location>lab</location></system>`);
    const ifs: string[] = [];
    for (let i = 0; i < interfaces; i++) {
      ifs.push(`<interface><name>ge-0/0/${i}</name><description>port ${i}</description><enabled>true</enabled></interface>`);
    }
    this.running.set('interfaces', `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">${ifs.join('')}</interfaces>`);
    this.candidate = new Map(this.running);
  }

  text(which: 'running' | 'candidate'): string {
    return [...(which === 'running' ? this.running : this.candidate).values()].join('');
  }
}

const stores = new WeakMap<DeviceCtx, SimNetconfStore>();

function storeOf(dev: DeviceCtx): SimNetconfStore {
  let s = stores.get(dev);
  if (!s) {
    s = new SimNetconfStore(dev.shared.hostname, Math.max(1, Math.ceil(dev.shared.runConfigLines / 4)));
    stores.set(dev, s);
  }
  return s;
}

/** One NETCONF session on an accepted `netconf` subsystem channel. */
export class SimNetconfSession {
  readonly #dev: DeviceCtx;
  readonly #stream: ServerChannel;
  readonly #decoder: FrameDecoder;
  readonly #sessionId = nextSessionId++;
  #framing: Framing = '1.0';
  #helloDone = false;
  #closed = false;

  constructor(dev: DeviceCtx, stream: ServerChannel) {
    this.#dev = dev;
    this.#stream = stream;
    this.#decoder = new FrameDecoder(MAX_MESSAGE_BYTES, (m) => this.#onMessage(m.toString('utf8')));
    stream.on('data', (d: Buffer) => {
      if (this.#closed) return;
      try {
        this.#decoder.push(d);
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.#end(); // a real server drops a session whose framing it cannot read
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => (this.#closed = true));
    const caps = [BASE_10, ...(dev.opts.netconfFraming === '1.0' ? [] : [BASE_11]),
      'urn:ietf:params:netconf:capability:writable-running:1.0', 'urn:ietf:params:netconf:capability:candidate:1.0',
      'urn:ietf:params:netconf:capability:validate:1.1',
      'urn:ietf:params:xml:ns:yang:ietf-interfaces?module=ietf-interfaces&amp;revision=2018-02-20'];
    this.#send(`<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${NS}"><capabilities>${caps.map((c) => `<capability>${c}</capability>`).join('')}</capabilities><session-id>${this.#sessionId}</session-id></hello>`);
  }

  #send(xml: string): void {
    if (this.#closed) return;
    this.#stream.write(encodeMessage(this.#framing, xml));
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.exit(0);
    this.#stream.end();
  }

  #onMessage(xml: string): void {
    if (!this.#helloDone) {
      this.#helloDone = true;
      // The client's capabilities: chunked framing from now on when both offer base:1.1.
      if (this.#dev.opts.netconfFraming !== '1.0' && xml.includes(BASE_11)) {
        this.#framing = '1.1';
        this.#decoder.framing = '1.1';
      }
      return;
    }
    const stats = this.#dev.stats;
    let rpcAttrs = '';
    let op: { local: string; start: number; end: number; kind: string } | undefined;
    let depth = 0;
    try {
      scanTags(xml, (tag) => {
        if (depth === 0) {
          if (tag.local !== 'rpc' || tag.kind !== 'open') throw new XmlScanError(`expected <rpc>, got <${tag.local}>`);
          rpcAttrs = tag.attrs;
          depth = 1;
          return true;
        }
        op = { local: tag.local, start: tag.start, end: tag.end, kind: tag.kind };
        return false;
      });
    } catch (err) {
      this.#send(this.#error('', 'malformed-message', (err as Error).message));
      return;
    }
    if (!op) {
      this.#send(this.#error(rpcAttrs, 'missing-element', 'the <rpc> holds no operation'));
      return;
    }
    const name = (op as { local: string }).local;
    stats.commandsRun++;
    stats.commandCounts.set(`netconf:${name}`, (stats.commandCounts.get(`netconf:${name}`) ?? 0) + 1);
    if (this.#dev.faults.hang) return;
    const delay = this.#dev.latency;
    const reply = (): void => this.#answer(name, rpcAttrs, xml);
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  }

  /**
   * An <rpc-reply> in the base namespace with the <rpc>'s other attributes (message-id, prefixes)
   * copied, as RFC 6241 §4.2 asks: a client that sent <nc:rpc> still finds an <rpc-reply> in the
   * base namespace.
   */
  #reply(attrs: string, body: string): string {
    const others = attrs.replace(/\sxmlns\s*=\s*("[^"]*"|'[^']*')/, '');
    return `<?xml version="1.0" encoding="UTF-8"?><rpc-reply xmlns="${NS}"${others}>${body}</rpc-reply>`;
  }

  #error(attrs: string, tag: string, message: string, type = 'protocol'): string {
    const esc = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return this.#reply(attrs, `<rpc-error><error-type>${type}</error-type><error-tag>${tag}</error-tag><error-severity>error</error-severity><error-message xml:lang="en">${esc}</error-message></rpc-error>`);
  }

  #answer(op: string, attrs: string, xml: string): void {
    const store = storeOf(this.#dev);
    const ok = this.#reply(attrs, '<ok/>');
    switch (op) {
      case 'get-config': {
        const source = /<source>\s*<(?:\w+:)?candidate\s*\/>/.test(xml) ? 'candidate' : 'running';
        this.#send(this.#reply(attrs, emptyFilter(xml) ? '<data/>' : `<data>${store.text(source)}</data>`));
        return;
      }
      case 'get': {
        const state = `<system-state xmlns="urn:example:system"><uptime>${Math.floor(process.uptime())}</uptime><sessions>${this.#dev.stats.connections}</sessions></system-state>`;
        this.#send(this.#reply(attrs, emptyFilter(xml) ? '<data/>' : `<data>${store.text('running')}${state}</data>`));
        return;
      }
      case 'edit-config': {
        const target = /<target>\s*<(?:\w+:)?candidate\s*\/>/.test(xml) ? store.candidate : store.running;
        const config = innerOf(xml, 'config');
        if (config === undefined) {
          this.#send(this.#error(attrs, 'missing-element', 'edit-config needs a <config> element', 'rpc'));
          return;
        }
        for (const [name, text] of topLevel(config)) target.set(name, text);
        this.#send(ok);
        return;
      }
      case 'commit':
        for (const [k, v] of store.candidate) store.running.set(k, v);
        this.#send(ok);
        return;
      case 'discard-changes':
        store.candidate = new Map(store.running);
        this.#send(ok);
        return;
      case 'lock':
      case 'unlock':
      case 'validate':
      case 'kill-session':
        this.#send(ok);
        return;
      case 'close-session':
        this.#send(ok);
        setImmediate(() => this.#end());
        return;
      case 'sim-garbage':
        if (this.#dev.opts.hostile) {
          this.#stream.write(this.#framing === '1.1' ? '\n#abc\nxyz' : '');
          if (this.#framing === '1.0') this.#stream.write(Buffer.alloc(64 * 1024, 0x41)); // never a marker
          return;
        }
        break;
      case 'sim-huge-chunk':
        if (this.#dev.opts.hostile) {
          this.#stream.write(this.#framing === '1.1' ? '\n#4294967295\n<rpc-reply' : '<rpc-reply');
          return;
        }
        break;
    }
    this.#send(this.#error(attrs, 'operation-not-supported', `operation ${op} is not supported by this simulated device`));
  }
}

/** `<filter type="subtree"/>` or an empty filter element: selects nothing (RFC 6241 §6.4.2). */
function emptyFilter(xml: string): boolean {
  return /<(?:\w+:)?filter\b[^>]*\/>/.test(xml) || /<(?:\w+:)?filter\b[^>]*>\s*<\/(?:\w+:)?filter>/.test(xml);
}

/** The text between <name ...> and its matching </name> (first occurrence; same-name nesting not supported). */
function innerOf(xml: string, name: string): string | undefined {
  let open: number | undefined;
  let result: string | undefined;
  scanTags(xml, (tag) => {
    if (tag.local !== name) return true;
    if (tag.kind === 'empty') {
      result = '';
      return false;
    }
    if (tag.kind === 'open' && open === undefined) open = tag.end;
    else if (tag.kind === 'close' && open !== undefined) {
      result = xml.slice(open, tag.start);
      return false;
    }
    return true;
  });
  return result;
}

/** Top-level elements of a fragment as [local name, full text]. */
function topLevel(xml: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let depth = 0;
  let start = 0;
  let name = '';
  scanTags(xml, (tag) => {
    if (tag.kind === 'empty' && depth === 0) out.push([tag.local, xml.slice(tag.start, tag.end)]);
    else if (tag.kind === 'open') {
      if (depth === 0) {
        start = tag.start;
        name = tag.local;
      }
      depth++;
    } else if (tag.kind === 'close') {
      depth--;
      if (depth === 0) out.push([name, xml.slice(start, tag.end)]);
    }
  });
  return out;
}

/** Used by ssh-server.ts for the `netconf` subsystem. */
export function handleNetconfSubsystem(dev: DeviceCtx, stream: ServerChannel): void {
  new SimNetconfSession(dev, stream);
}

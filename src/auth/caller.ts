/** Who is calling, as established by authenticate.ts and checked by policy.ts. */
export interface Caller {
  /** Token caller name, or the client certificate's identity (URI SAN, DNS SAN or CN), or 'anonymous'. */
  name: string;
  via: 'token' | 'mtls' | 'none';
}

export const ANONYMOUS: Caller = Object.freeze({ name: 'anonymous', via: 'none' }) as Caller;

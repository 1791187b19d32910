/**
 * Names that cross layers, each defined once: the inventory file, the Inventory API and every
 * request validate against the same pattern (docs/api.md, "Devices"; docs/configuration.md).
 */

/** Longest device id, in characters. */
const DEVICE_ID_MAX = 128;
/** Device ids: what a metric label, a log line and a file name can all carry unquoted. */
export const DEVICE_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** The rule as people read it, for error messages. */
export const DEVICE_ID_RULE = `1..${DEVICE_ID_MAX} of A-Z a-z 0-9 . _ : -`;

/**
 * An HTTP header name: an RFC 9110 token of at most 256 characters (a request's header, a session
 * login's token header).
 */
export const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

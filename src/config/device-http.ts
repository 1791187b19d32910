/**
 * The `http:` block of a device (base URL, auth, TLS), validated for inventory.ts.
 */
import { HEADER_NAME_RE } from '../core/names.js';
import { checkHost, showValue } from './checks.js';
import { own, present } from './device-validator.js';
import { Secret } from './secret.js';
import type { DeviceValidator } from './device-validator.js';
import type { AppConfig, HttpAuth, HttpSpec, HttpTls } from './types.js';

export function validateHttpSpec(v: DeviceValidator, raw: Record<string, unknown>, defaults: AppConfig['defaults']['http']): HttpSpec {
  const base = v.str(raw, 'http.baseUrl', { required: true, max: 2048 }) as string;
  // A URL may carry credentials ("https://user:pw@host"): show it only when it cannot.
  const shown = base.includes('@') ? 'the value is not shown' : `got ${showValue(base)}`;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    v.fail('http.baseUrl', `must be an absolute http:// or https:// URL (${shown})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') v.fail('http.baseUrl', `must use http or https (${shown})`);
  if (url.username !== '' || url.password !== '') v.fail('http.baseUrl', 'must not contain credentials; use http.auth (the value is not shown)');
  if (url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) v.fail('http.baseUrl', `must not have a query or fragment (${shown})`);
  // Request paths are appended to this, so it is kept without a trailing slash.
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;

  const auth = validateHttpAuth(v, v.group(raw, 'auth'));
  const tls = validateTls(v, v.group(raw, 'tls'), url.protocol === 'https:');
  const limits = v.merged<AppConfig['defaults']['http']>(raw, 'http', defaults);
  return { baseUrl, auth, tls, ...limits };
}

const AUTH_FIELDS: Record<HttpAuth['type'], string[]> = {
  none: ['type'],
  basic: ['type', 'username', 'password', 'passwordFile'],
  bearer: ['type', 'token', 'tokenFile'],
  session: ['type', 'loginPath', 'username', 'password', 'passwordFile', 'tokenField', 'tokenHeader'],
};

function validateHttpAuth(v: DeviceValidator, raw: Record<string, unknown> | undefined): HttpAuth {
  if (raw === undefined) return { type: 'none' };
  const type = own(raw, 'type');
  const types = Object.keys(AUTH_FIELDS);
  if (typeof type !== 'string' || !types.includes(type)) v.fail('http.auth.type', `must be one of ${types.join(', ')} (got ${showValue(type)})`);
  const t = type as HttpAuth['type'];
  for (const key of Object.keys(raw)) {
    if (present(raw[key]) && !AUTH_FIELDS[t].includes(key)) v.fail(`http.auth.${key}`, `is not used by auth type ${t} (it takes ${AUTH_FIELDS[t].join(', ')})`);
  }
  const password = (): Secret => {
    const s = v.secret(raw, 'http.auth.password', 'http.auth.passwordFile');
    if (s === undefined) v.fail('http.auth.password', `is required for auth type ${t}: set password or passwordFile`);
    return s;
  };
  switch (t) {
    case 'none':
      return { type: 'none' };
    case 'basic': {
      const username = v.str(raw, 'http.auth.username', { required: true }) as string;
      if (username.includes(':')) v.fail('http.auth.username', 'must not contain ":" (basic auth cannot carry it)');
      return { type: 'basic', username, password: password() };
    }
    case 'bearer': {
      const token = v.secret(raw, 'http.auth.token', 'http.auth.tokenFile');
      if (token === undefined) v.fail('http.auth.token', 'is required for auth type bearer: set token or tokenFile');
      return { type: 'bearer', token };
    }
    case 'session': {
      const loginPath = v.str(raw, 'http.auth.loginPath', { required: true, max: 1024 }) as string;
      if (!loginPath.startsWith('/')) v.fail('http.auth.loginPath', `must start with "/" (got ${showValue(loginPath)})`);
      const username = v.str(raw, 'http.auth.username', { required: true }) as string;
      const out: HttpAuth = { type: 'session', loginPath, username, password: password() };
      const tokenField = v.str(raw, 'http.auth.tokenField');
      const tokenHeader = v.str(raw, 'http.auth.tokenHeader');
      if (tokenHeader !== undefined && !HEADER_NAME_RE.test(tokenHeader)) v.fail('http.auth.tokenHeader', `must be an HTTP header name (got ${showValue(tokenHeader)})`);
      if (tokenField !== undefined) out.tokenField = tokenField;
      if (tokenHeader !== undefined) out.tokenHeader = tokenHeader;
      return out;
    }
  }
}

function validateTls(v: DeviceValidator, raw: Record<string, unknown> | undefined, https: boolean): HttpTls {
  if (raw === undefined) return {};
  const out: HttpTls = {};
  const caFile = v.file(raw, 'http.tls.caFile');
  const certFile = v.file(raw, 'http.tls.certFile');
  const keyFile = v.file(raw, 'http.tls.keyFile');
  const serverName = v.str(raw, 'http.tls.serverName');
  const insecure = v.bool(raw, 'http.tls.insecureSkipVerify');
  const anySet = [caFile, certFile, keyFile, serverName].some((x) => x !== undefined) || insecure === true;
  if (anySet && !https) v.fail('http.tls', 'is set but http.baseUrl is not https://');
  if ((certFile === undefined) !== (keyFile === undefined)) v.fail(certFile === undefined ? 'http.tls.certFile' : 'http.tls.keyFile', 'certFile and keyFile must be given together');
  if (insecure === true && caFile !== undefined) v.fail('http.tls.insecureSkipVerify', 'cannot be combined with caFile (caFile would be ignored)');
  if (serverName !== undefined) {
    const problem = checkHost(serverName);
    if (problem !== undefined) v.fail('http.tls.serverName', `${problem} (got ${showValue(serverName)})`);
  }
  if (caFile !== undefined) out.caFile = caFile;
  if (certFile !== undefined) out.certFile = certFile;
  if (keyFile !== undefined) out.keyFile = keyFile;
  if (serverName !== undefined) out.serverName = serverName;
  if (insecure !== undefined) out.insecureSkipVerify = insecure;
  return out;
}

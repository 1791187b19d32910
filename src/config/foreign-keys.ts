/**
 * Inventory keys from other tools (Netmiko's ConnectHandler arguments, Ansible's connection
 * variables, Nornir's host fields, Scrapli's driver arguments) and what warmpool calls them.
 * People port inventories from these tools; an edit-distance "did you mean" cannot tell that
 * `device_type` is `platform` or `ansible_host` is `host`, so the unknown-field message says it.
 *
 * Only key names are mapped here: platform *values* (cisco_xe, cisco.ios.ios, ...) are the
 * platform list's business (docs/platforms.md).
 */

interface ForeignKey {
  /** The tool the name comes from, for the message. */
  tool: string;
  /** warmpool's field path, or undefined when there is no equivalent. */
  field?: string;
  /** Why / what to do instead, when there is no one-to-one field. */
  note?: string;
}

const NETMIKO = 'Netmiko';
const ANSIBLE = 'Ansible';
const NORNIR = 'Nornir';
const SCRAPLI = 'Scrapli';

const FOREIGN_DEVICE_KEYS: Readonly<Record<string, ForeignKey>> = {
  device_type: { tool: NETMIKO, field: 'platform' },
  ip: { tool: NETMIKO, field: 'host' },
  secret: { tool: NETMIKO, field: 'enableSecret' },
  key_file: { tool: NETMIKO, field: 'privateKeyFile' },
  use_keys: { tool: NETMIKO, note: 'set privateKeyFile instead' },
  conn_timeout: { tool: NETMIKO, field: 'ssh.connectTimeoutMs', note: 'in milliseconds' },
  read_timeout_override: { tool: NETMIKO, field: 'ssh.commandTimeoutMs', note: 'in milliseconds' },
  timeout: { tool: NETMIKO, field: 'ssh.commandTimeoutMs', note: 'in milliseconds' },
  keepalive: { tool: NETMIKO, field: 'ssh.keepaliveIntervalMs', note: 'in milliseconds' },
  global_delay_factor: { tool: NETMIKO, note: 'warmpool reads until the prompt and needs no delays' },
  fast_cli: { tool: NETMIKO, note: 'warmpool reads until the prompt and needs no delays' },
  ssh_config_file: { tool: NETMIKO, note: 'put jump hosts in the inventory as bastions' },
  ansible_host: { tool: ANSIBLE, field: 'host' },
  ansible_port: { tool: ANSIBLE, field: 'port' },
  ansible_user: { tool: ANSIBLE, field: 'username' },
  ansible_password: { tool: ANSIBLE, field: 'password' },
  ansible_ssh_pass: { tool: ANSIBLE, field: 'password' },
  ansible_ssh_private_key_file: { tool: ANSIBLE, field: 'privateKeyFile' },
  ansible_private_key_file: { tool: ANSIBLE, field: 'privateKeyFile' },
  ansible_network_os: { tool: ANSIBLE, field: 'platform' },
  ansible_become_password: { tool: ANSIBLE, field: 'enableSecret' },
  ansible_become_pass: { tool: ANSIBLE, field: 'enableSecret' },
  ansible_become: { tool: ANSIBLE, note: 'ask for privileged mode per request (RunRequest.privileged)' },
  ansible_connection: { tool: ANSIBLE, note: 'warmpool always connects over SSH; the session mode is `mode`' },
  hostname: { tool: NORNIR, field: 'host' },
  groups: { tool: NORNIR, field: 'labels', note: 'select devices by label' },
  data: { tool: NORNIR, field: 'labels' },
  connection_options: { tool: NORNIR, note: 'set the fields directly on the device' },
  auth_username: { tool: SCRAPLI, field: 'username' },
  auth_password: { tool: SCRAPLI, field: 'password' },
  auth_secondary: { tool: SCRAPLI, field: 'enableSecret' },
  auth_private_key: { tool: SCRAPLI, field: 'privateKeyFile' },
  auth_strict_key: { tool: SCRAPLI, field: 'hostKey' },
  timeout_ops: { tool: SCRAPLI, field: 'ssh.commandTimeoutMs', note: 'in milliseconds' },
  timeout_socket: { tool: SCRAPLI, field: 'ssh.connectTimeoutMs', note: 'in milliseconds' },
};

/**
 * The hint for an unknown top-level device key that another tool uses, e.g.
 * `device_type is Netmiko's name; warmpool calls it "platform"`; undefined for other keys.
 */
export function foreignKeyHint(key: string): string | undefined {
  const f = Object.hasOwn(FOREIGN_DEVICE_KEYS, key) ? FOREIGN_DEVICE_KEYS[key] : undefined;
  if (f === undefined) return undefined;
  if (f.field === undefined) return `${key} is ${f.tool}'s; warmpool has no such setting: ${f.note ?? 'remove it'}`;
  return `${key} is ${f.tool}'s name; warmpool calls it "${f.field}"${f.note === undefined ? '' : ` (${f.note})`}`;
}

/** Every mapped name, for tests and docs. */
export const FOREIGN_KEY_NAMES: readonly string[] = Object.keys(FOREIGN_DEVICE_KEYS);

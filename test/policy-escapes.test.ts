/**
 * The read-only preset against a corpus of known escapes (GTFOBins-style for Linux exec devices,
 * plus network-OS file writes, shells and configuration by abbreviation): every entry must be
 * refused. Then the legitimate read-only commands that must stay allowed, and property tests.
 */
import t from 'tap';
import fc from 'fast-check';
import { Policy } from '../src/auth/policy.js';
import type { Caller } from '../src/auth/caller.js';
import { DENIED_PATH_PREFIXES, EXEC_COMMANDS } from '../src/auth/exec-allowlist.js';
import { READ_KEYWORDS } from '../src/auth/cli-readonly.js';
import type { DeviceSpec, Platform, SessionMode } from '../src/config/types.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshdDevice, startSshd } from './kit/sshd.js';
import { m, startTestDaemon } from './kit/daemon.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
t.comment(`fast-check seed ${SEED} (replay with FUZZ_SEED=${SEED})`);

/** Printable-ASCII rendering for tap messages: raw controls would break the TAP stream. */
const esc = (v: string): string => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const caller: Caller = { name: 'reader', via: 'token' };
const policy = Policy.parse('rules:\n  - callers: ["*"]\n    presets: [read-only]\n', 'p.yaml');

function device(platform: Platform, mode: SessionMode = platform === 'linux' ? 'exec' : 'shell'): DeviceSpec {
  return {
    id: `${platform}-${mode}`, host: '127.0.0.1', port: 22, platform, mode, username: 'u', hostKey: { acceptAny: true }, labels: {},
    pool: { min: 0, max: 1, idleTimeoutMs: 1, maxLifetimeMs: 1, acquireTimeoutMs: 1, maxWaiting: 1 },
    ssh: { connectTimeoutMs: 1, keepaliveIntervalMs: 1, keepaliveCountMax: 1, commandTimeoutMs: 1, appKeepaliveMs: 0, healthCheckAfterMs: 0, legacyAlgorithms: false, maxOutputBytes: 4 << 20 },
    source: 'file',
  };
}
const DEVICES: Record<string, DeviceSpec> = {
  linux: device('linux'),
  'linux-shell': device('linux', 'shell'),
  'generic-exec': device('generic', 'exec'),
  generic: device('generic'),
  ios: device('cisco_ios'),
  'ios-exec': device('cisco_ios', 'exec'),
  nxos: device('cisco_nxos'),
  eos: device('arista_eos'),
  junos: device('juniper_junos'),
};
const check = (dev: string, command: string) => policy.check(caller, { rpc: 'Run', device: DEVICES[dev]!, commands: [command] });

type EscapeClass =
  | 'metacharacter' | 'command-substitution' | 'redirection' | 'program-not-allowed' | 'option-exec-write' | 'secret-path'
  | 'unicode-control' | 'line-injection' | 'abbreviation-config' | 'filter-write' | 'nos-shell' | 'network-fs';

/** [class, device, command]: every one of these must be refused by the read-only preset. */
export const ESCAPES: Array<[EscapeClass, string, string]> = [
  // --- the reported escapes
  ['metacharacter', 'linux', 'ls /tmp | find /tmp/x -maxdepth 0 -exec touch /tmp/x/PWNED {} +'],
  ['metacharacter', 'linux', 'id | sort -o /tmp/x/PWNED'],
  ['metacharacter', 'linux', 'uname | uniq - /tmp/x/PWNED'],
  // --- shell metacharacters
  ['metacharacter', 'linux', 'ls;id'],
  ['metacharacter', 'linux', 'ls ; id'],
  ['metacharacter', 'linux', 'ls && id'],
  ['metacharacter', 'linux', 'ls || id'],
  ['metacharacter', 'linux', 'ls & id'],
  ['metacharacter', 'linux', 'ls | sh'],
  ['metacharacter', 'linux', 'ls|sh'],
  ['metacharacter', 'linux', '(id)'],
  ['metacharacter', 'linux', '{ id; }'],
  ['metacharacter', 'linux', 'ls # comment'],
  ['metacharacter', 'linux', '!!'],
  ['metacharacter', 'linux', 'ls !-1'],
  ['metacharacter', 'linux', 'ls /tmp/*'],
  ['metacharacter', 'linux', 'cat /etc/pass??'],
  ['metacharacter', 'linux', 'cat /etc/[p]asswd'],
  ['metacharacter', 'linux', 'ls ~'],
  ['metacharacter', 'linux', 'cat ~root/x'],
  ['metacharacter', 'linux', 'cat "/etc/passwd"'],
  ['metacharacter', 'linux', "cat '/etc/passwd'"],
  ['metacharacter', 'linux', 'cat /etc/pass\\wd'],
  ['metacharacter', 'linux', 'ls /{tmp,etc}'],
  ['metacharacter', 'linux', 'ls ^tmp'],
  ['metacharacter', 'linux-shell', 'ls | sh'],
  ['metacharacter', 'generic-exec', 'show version | sh'],
  ['metacharacter', 'generic', 'show x | find / -exec id ;'],
  ['metacharacter', 'generic', 'show *'],
  ['metacharacter', 'generic', 'show [a]'],
  ['metacharacter', 'generic', 'display (x)'],
  ['metacharacter', 'nxos', 'show version ; conf t'],
  ['metacharacter', 'ios', 'show version ; reload'],
  ['metacharacter', 'ios', 'show ?'],
  ['metacharacter', 'ios', 'show run | include ?'],
  ['metacharacter', 'junos', 'show route ?'],
  ['metacharacter', 'ios', 'show run\t'],
  ['metacharacter', 'linux-shell', 'cat /etc/sha\t'],
  ['metacharacter', 'linux', 'ls\t/tmp'],
  ['metacharacter', 'nxos', 'show\tversion'],
  // --- command substitution
  ['command-substitution', 'linux', 'cat $(id)'],
  ['command-substitution', 'linux', 'cat `id`'],
  ['command-substitution', 'linux', 'ls $HOME'],
  ['command-substitution', 'linux', 'ls ${HOME}'],
  ['command-substitution', 'linux', 'ls $((1+1))'],
  ['command-substitution', 'linux', 'cat <(id)'],
  ['command-substitution', 'linux', 'ls >(id)'],
  ['command-substitution', 'linux', "ls $'\\x41'"],
  ['command-substitution', 'linux', 'ls =id'],
  ['command-substitution', 'generic', 'show $(id)'],
  ['command-substitution', 'generic', 'show `id`'],
  ['command-substitution', 'nxos', 'show $(VAR)'],
  // --- redirection
  ['redirection', 'linux', 'cat /etc/passwd > /tmp/x'],
  ['redirection', 'linux', 'cat /etc/passwd >> /tmp/x'],
  ['redirection', 'linux', 'cat < /etc/passwd'],
  ['redirection', 'linux', 'ls 2>/tmp/x'],
  ['redirection', 'linux', 'ls >| /tmp/x'],
  ['redirection', 'linux', 'ls 1>&2'],
  ['redirection', 'linux', 'ls &>/tmp/x'],
  ['redirection', 'ios', 'show run > flash:x'],
  ['redirection', 'nxos', 'show run > bootflash:x'],
  ['redirection', 'nxos', 'show run >> bootflash:x'],
  ['redirection', 'eos', 'show run > flash:x'],
  ['redirection', 'junos', 'show version > /var/tmp/x'],
  ['redirection', 'generic', 'get system status > /tmp/x'],
  // --- programs that run, write or spawn (not on the allow-list at all)
  ...([
    'find /tmp -exec id ;', 'find /tmp -fprint /tmp/x', 'sort -o /tmp/x /etc/passwd', 'tee /tmp/x', 'awk BEGIN{system(id)}',
    'sed -n 1w/tmp/x /etc/passwd', 'sed 1e /etc/passwd', 'xargs id', 'env id', 'less /etc/passwd', 'more /etc/passwd',
    'vi /etc/passwd', 'man ls', 'nice id', 'timeout 1 id', 'nohup id', 'strace id', 'perl -e exec', 'python3 -c 1', 'bash -c id',
    'sh -c id', 'busybox sh', 'tar -cf /tmp/x /etc', 'tar --checkpoint-action=exec=id -cf /dev/null /etc', 'dd if=/etc/passwd of=/tmp/x',
    'cp /etc/passwd /tmp/x', 'mv /tmp/a /tmp/b', 'rm -rf /tmp/x', 'touch /tmp/x', 'mkdir /tmp/x', 'ln -s /etc/shadow /tmp/x',
    'chmod 777 /tmp', 'curl -o /tmp/x http://127.0.0.1/', 'wget -O /tmp/x http://127.0.0.1/', 'ssh 127.0.0.1 id', 'systemctl reboot',
    'kill -9 1', 'reboot', 'sudo id', 'su', 'script -c id /tmp/x', 'watch id', 'setsid id', 'unshare id', 'nsenter -t 1 id',
    'exec id', 'eval id', 'source /tmp/x', '. /tmp/x', 'crontab /tmp/x', 'at now', 'git log', 'printenv', 'uniq /etc/passwd /tmp/x',
    '/bin/ls', '/usr/bin/id', './ls', 'LS /tmp', 'Cat /etc/passwd', 'ID',
  ].map((c): [EscapeClass, string, string] => ['program-not-allowed', 'linux', c])),
  // --- allowed programs, forbidden options or operands (write, exec, follow forever, set state)
  ...([
    'ls -R /', 'ls --color=always', 'ls -I x /tmp', 'ls --hyperlink /tmp', 'ls --al', 'cat', 'cat -', 'head -c 10 /etc/passwd',
    'head -n5 /etc/passwd', 'head --lines=5 /etc/passwd', 'tail -f /var/log/syslog', 'tail -F /var/log/syslog',
    'tail --follow /var/log/syslog', 'tail -n 1 -s 1 /etc/passwd', 'tail --pid 1 /etc/passwd', 'grep -r root /etc',
    'grep -R root /etc', 'grep -f /etc/shadow /etc/passwd', 'grep -d recurse root /etc', 'grep root', 'grep --include=x root /etc',
    'wc --files0-from=/tmp/x', 'df --output=source', 'free -s 1', 'free -c 1000000', 'uname -x', 'id -Z', 'hostname evil',
    'hostname -F /tmp/x', 'hostname -b evil', 'hostname -f', 'date -s 2020-01-01', 'date --set=2020-01-01', 'date 010100002020',
    'date -f /etc/passwd', 'date -d @0', 'ps e', 'ps eww', 'ps auxe', 'ps -o environ', 'ps -o pid,environ', 'ps --sort=pid',
    'ss -K', 'ss -D /tmp/x', 'ss -F /etc/passwd', 'ss -N other', 'ss -E', 'ss -tK', 'ip -b /tmp/x', 'ip -batch /tmp/x',
    'ip -force -b /tmp/x', 'ip netns exec x id', 'ip vrf exec x id', 'ip link set lo down', 'ip addr add 10.9.9.9/32 dev lo',
    'ip route flush all', 'ip addr flush dev lo', 'ip monitor', 'ip -n other addr', 'ip addr s', 'ip a sh', 'ip route del default',
    'ip neigh flush all', 'ip link del x', 'ip rule add from all', 'ip tuntap add x mode tun', 'ip addr show dev',
    'ip route show table', 'uptime -V', 'pwd -x', 'whoami root', 'lscpu -s /tmp', 'nproc --ignore=1', 'cat -- /etc/passwd',
  ].map((c): [EscapeClass, string, string] => ['option-exec-write', 'linux', c])),
  // --- file operands that name secrets, devices, processes or escape via relative paths
  ...([
    'cat /etc/shadow', 'cat /etc/shadow-', 'cat /etc/gshadow', 'cat //etc//shadow', 'cat /root/.ssh/id_rsa', 'cat /home/u/notes.txt',
    'cat /tmp/.hidden', 'cat ../../etc/shadow', 'cat /tmp/../etc/shadow', 'cat /tmp/./x', 'cat etc/passwd', 'cat /proc/self/environ',
    'cat /proc/1/environ', 'cat /proc/self/root/etc/shadow', 'cat /proc/kcore', 'cat /proc/1/cmdline', 'cat /dev/mem',
    'cat /dev/zero', 'head -n 1 /dev/urandom', 'cat /etc/ssh/ssh_host_ed25519_key', 'cat /var/run/secrets/kubernetes.io/serviceaccount/token',
    'cat /run/secrets/db', 'cat /etc/sudoers', 'ls /root', 'ls /home', 'grep x /etc/shadow', 'tail -n 1 /var/lib/x', 'wc -l /boot/grub/grub.cfg',
    'ls /sys/kernel/debug', 'df /dev/sda',
  ].map((c): [EscapeClass, string, string] => ['secret-path', 'linux', c])),
  // --- unicode look-alikes and control characters
  ['unicode-control', 'linux', 'ls\u00a0/tmp'],
  ['unicode-control', 'linux', 'ls\u3000/tmp'],
  ['unicode-control', 'linux', 'ls /tmp\u200b'],
  ['unicode-control', 'linux', '\uff4c\uff53 /tmp'],
  ['unicode-control', 'linux', '\u0441at /etc/passwd'],
  ['unicode-control', 'linux', 'ls\u0000id'],
  ['unicode-control', 'linux', 'ls \u001b[0m'],
  ['unicode-control', 'linux', 'ls\u007f'],
  ['unicode-control', 'linux', 'ls\u000bid'],
  ['unicode-control', 'linux', 'ls\u000cid'],
  ['unicode-control', 'linux', 'ls\u0085id'],
  ['unicode-control', 'ios', '\u0455how run'],
  ['unicode-control', 'ios', 'show run \uff5c redirect flash:x'],
  ['unicode-control', 'ios', 'show run\u00a0| redirect flash:x'],
  ['unicode-control', 'ios', 'show version\u0000'],
  ['unicode-control', 'junos', 'show version\u2028start shell'],
  ['unicode-control', 'eos', 'show version\u2029bash'],
  // --- newline / CR injection (a second command on its own line)
  ['line-injection', 'linux', 'ls\nid'],
  ['line-injection', 'linux', 'ls\rid'],
  ['line-injection', 'linux', 'ls\r\ntouch /tmp/x'],
  ['line-injection', 'ios', 'show version\nconf t'],
  ['line-injection', 'ios', 'show version\rreload'],
  ['line-injection', 'ios', 'show clock\n\nwrite erase'],
  ['line-injection', 'junos', 'show version\nstart shell'],
  ['line-injection', 'nxos', 'show version\rrun bash'],
  ['line-injection', 'eos', 'show version\n\rbash'],
  ['line-injection', 'generic', 'show version\nsystem-view'],
  // --- configuration and operational changes, by abbreviation
  ...([
    'conf t', 'con t', 'config t', 'configure terminal', 'CONF   T', 'wr', 'wr mem', 'write', 'write erase', 'rel', 'reload',
    'copy run start', 'cop r s', 'del flash:x', 'era nvram:', 'form flash:', 'cle counters', 'clear ip bgp 10.0.0.1', 'deb all',
    'undeb all', 'u all', 'no debug all', 'term len 24', 'terminal monitor', 'en', 'enable', 'disable', 'tclsh', 'crypto key generate rsa',
    'test crypto', 'license boot level x', 'install add file flash:x', 'boot system flash:x', 'setup', 'send *', 'telnet 10.0.0.1',
    'ssh 10.0.0.1', 'sh run', 'c', 'end', 'exit',
  ].map((c): [EscapeClass, string, string] => ['abbreviation-config', 'ios', c])),
  ['abbreviation-config', 'ios-exec', 'conf t'],
  ['abbreviation-config', 'nxos', 'checkpoint x'],
  ['abbreviation-config', 'nxos', 'rollback running-config checkpoint x'],
  ['abbreviation-config', 'nxos', 'install all nxos bootflash:x'],
  ['abbreviation-config', 'nxos', 'system mode maintenance'],
  ['abbreviation-config', 'nxos', 'feature bash-shell'],
  ['abbreviation-config', 'eos', 'configure session x'],
  ['abbreviation-config', 'eos', 'configure replace flash:x'],
  ['abbreviation-config', 'eos', 'zerotouch cancel'],
  ['abbreviation-config', 'junos', 'configure'],
  ['abbreviation-config', 'junos', 'configure private'],
  ['abbreviation-config', 'junos', 'edit'],
  ['abbreviation-config', 'junos', 'set cli screen-length 24'],
  ['abbreviation-config', 'junos', 'set date 202001010000'],
  ['abbreviation-config', 'junos', 'delete'],
  ['abbreviation-config', 'junos', 'commit'],
  ['abbreviation-config', 'junos', 'rollback 1'],
  ['abbreviation-config', 'junos', 'load override /var/tmp/x'],
  ['abbreviation-config', 'junos', 'request system reboot'],
  ['abbreviation-config', 'junos', 'request system zeroize'],
  ['abbreviation-config', 'junos', 'req sys reb'],
  ['abbreviation-config', 'junos', 'restart routing'],
  ['abbreviation-config', 'junos', 'clear bgp neighbor all'],
  ['abbreviation-config', 'junos', 'file copy /var/tmp/a /var/tmp/b'],
  ['abbreviation-config', 'junos', 'file delete /var/tmp/a'],
  ['abbreviation-config', 'junos', 'op url http://127.0.0.1/x.slax'],
  ['abbreviation-config', 'junos', 'test policy x 10.0.0.0/8'],
  ['abbreviation-config', 'generic', 'system-view'],
  ['abbreviation-config', 'generic', 'config system global'],
  ['abbreviation-config', 'generic', 'execute reboot'],
  ['abbreviation-config', 'generic', 'save'],
  ['abbreviation-config', 'generic', 'undo shutdown'],
  // --- output filters that write files, mail or run code
  ...([
    'show run | redirect flash:x', 'show run | re flash:x', 'show run | red flash:x', 'show run | tee flash:x', 'show run | t flash:x',
    'show run | append flash:x', 'show run | a flash:x', 'show run | format flash:x', 'show run | f flash:x', 'show run|redirect flash:x',
    'show run |redirect flash:x', 'SHOW RUN | REDIRECT FLASH:X', 'show run | include x | redirect flash:x', 'show run | i x | t flash:y',
    'show tech | redirect tftp://10.0.0.1/x', 'show run |', 'show run | include -x',
  ].map((c): [EscapeClass, string, string] => ['filter-write', 'ios', c])),
  ['filter-write', 'nxos', 'show run | python'],
  ['filter-write', 'nxos', 'show run | vsh'],
  ['filter-write', 'nxos', 'show run | email x@example.com'],
  ['filter-write', 'nxos', 'show run | sed -n 1p'],
  ['filter-write', 'nxos', 'show run | tee bootflash:x'],
  ['filter-write', 'nxos', 'show run | sort -o bootflash:x'],
  ['filter-write', 'nxos', 'show run | egrep -f bootflash:x'],
  ['filter-write', 'nxos', 'show run | less'],
  ['filter-write', 'nxos', 'show run | awk x'],
  ['filter-write', 'eos', 'show run | bash id'],
  ['filter-write', 'eos', 'show version | grep x'],
  ['filter-write', 'eos', 'show run | redirect flash:x'],
  ['filter-write', 'eos', 'show run | append flash:x'],
  ['filter-write', 'eos', 'show run | tee flash:x'],
  ['filter-write', 'eos', 'show run | python-shell'],
  ['filter-write', 'junos', 'show configuration | save /var/tmp/x'],
  ['filter-write', 'junos', 'show configuration | sa /var/tmp/x'],
  ['filter-write', 'junos', 'show configuration | s /var/tmp/x'],
  ['filter-write', 'junos', 'show configuration | append /var/tmp/x'],
  ['filter-write', 'junos', 'show configuration | tee /var/tmp/x'],
  ['filter-write', 'junos', 'show configuration | display set | save /var/tmp/x'],
  ['filter-write', 'junos', 'show log messages | refresh 1'],
  ['filter-write', 'junos', 'show log messages | hold'],
  ['filter-write', 'junos', 'show version | request message all message x'],
  ['filter-write', 'junos', 'ping 10.0.0.1 | save /var/tmp/x'],
  ['filter-write', 'generic', 'show x | sort -o /tmp/y'],
  ['filter-write', 'generic', 'show x | xargs id'],
  ['filter-write', 'generic', 'show x | tee /tmp/y'],
  ['filter-write', 'generic', 'display x | save y'],
  ['filter-write', 'generic', 'show x | find /tmp -exec id'],
  ['filter-write', 'generic', 'show x | sh'],
  // --- shells and escapes of network OSes
  ['nos-shell', 'nxos', 'run bash id'],
  ['nos-shell', 'nxos', 'bash'],
  ['nos-shell', 'nxos', 'guestshell'],
  ['nos-shell', 'nxos', 'guestshell run id'],
  ['nos-shell', 'nxos', 'python'],
  ['nos-shell', 'nxos', 'tclsh'],
  ['nos-shell', 'nxos', 'attach module 1'],
  ['nos-shell', 'nxos', 'source bootflash:x.tcl'],
  ['nos-shell', 'nxos', 'load bootflash:x.py'],
  ['nos-shell', 'eos', 'bash'],
  ['nos-shell', 'eos', 'bash timeout 1 id'],
  ['nos-shell', 'eos', 'run bash id'],
  ['nos-shell', 'eos', 'python-shell'],
  ['nos-shell', 'eos', 'enable'],
  ['nos-shell', 'junos', 'start shell'],
  ['nos-shell', 'junos', 'start shell sh'],
  ['nos-shell', 'junos', 'start shell user root'],
  ['nos-shell', 'junos', 'file show /etc/master.passwd'],
  ['nos-shell', 'junos', 'monitor traffic'],
  ['nos-shell', 'ios', 'tclsh'],
  ['nos-shell', 'ios', 'guestshell run bash'],
  ['nos-shell', 'generic', 'sh -c id'],
  ['nos-shell', 'generic', 'sh'],
  ['nos-shell', 'generic', 'bash'],
  ['nos-shell', 'generic', 'ping -f 10.0.0.1'],
  ['nos-shell', 'generic-exec', 'show version'],
  // --- file systems that reach the network
  ['network-fs', 'ios', 'more tftp://10.0.0.1/x'],
  ['network-fs', 'ios', 'more http://10.0.0.1/x'],
  ['network-fs', 'ios', 'dir ftp://10.0.0.1/'],
  ['network-fs', 'ios', 'more scp://u@10.0.0.1/x'],
  ['network-fs', 'eos', 'more https://10.0.0.1/x'],
  ['network-fs', 'ios', 'show archive config differences nvram:startup-config tftp://10.0.0.1/x'],
  ['network-fs', 'nxos', 'show file ftp://10.0.0.1/x'],
];

t.test('every known escape is refused by the read-only preset', async (t) => {
  t.ok(ESCAPES.length >= 150, `corpus has ${ESCAPES.length} entries`);
  const perClass = new Map<EscapeClass, number>();
  for (const [cls, dev, command] of ESCAPES) {
    perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
    const d = check(dev, command);
    t.notOk(d.allowed, `${cls} on ${dev}: ${esc(command)} is refused`);
    if (!d.allowed) t.match(d.message, /^caller reader may not run '.*' on [\w-]+: denied by rule 1 \((preset read-only: .+|the command contains the control character U\+[0-9A-F]{4})\)$/s);
  }
  t.comment(`escape corpus: ${ESCAPES.length} entries; ${[...perClass].map(([c, n]) => `${c} ${n}`).join(', ')}`);
  for (const cls of ['metacharacter', 'command-substitution', 'redirection', 'program-not-allowed', 'option-exec-write', 'secret-path',
    'unicode-control', 'line-injection', 'abbreviation-config', 'filter-write', 'nos-shell', 'network-fs'] as const) {
    t.ok((perClass.get(cls) ?? 0) >= 5, `class ${cls} has at least 5 entries`);
  }
  // Every allowed exec program has at least one forbidden-option entry.
  for (const name of EXEC_COMMANDS.keys()) {
    if (['whoami', 'lscpu', 'nproc', 'pwd'].includes(name)) continue; // no options at all; covered by the property test
    t.ok(ESCAPES.some(([cls, , c]) => (cls === 'option-exec-write' || cls === 'secret-path') && c.split(' ')[0] === name), `escape entries for ${name}`);
  }
});

/** Read-only commands that must stay allowed, per device. */
export const LEGITIMATE: Array<[string, string]> = [
  ...[
    'ls', 'ls -la /tmp', 'ls -lh /var/log', 'ls --all /etc', 'cat /etc/os-release', 'cat -n /etc/hostname /etc/hosts', 'head -n 20 /var/log/syslog',
    'tail -n 50 /var/log/syslog', 'tail -n +5 /etc/passwd', 'wc -l /etc/passwd', 'grep -i root /etc/passwd', 'grep -c -e bash /etc/passwd',
    'df', 'df -h', 'df -hT /', 'free', 'free -m', 'free -h --total', 'uname', 'uname -a', 'uname -srm', 'uptime', 'uptime -p',
    'whoami', 'id', 'id -u', 'id -Gn root', 'hostname', 'date', 'date -u', 'date +%Y-%m-%dT%H:%M:%S', 'pwd', 'nproc', 'lscpu',
    'ps', 'ps aux', 'ps -ef', 'ps -eo pid,comm,%cpu', 'ps -p 1 -o pid,args', 'ss -tlnp', 'ss -s', 'ss -tuna', 'ip addr', 'ip -br addr show',
    'ip -4 route show', 'ip route show table main', 'ip -s link show dev lo', 'ip neigh show', 'ip rule list', 'ip a', 'ip r',
    'cat /proc/cpuinfo', 'cat /proc/meminfo', 'cat /proc/net/dev', 'ls /proc',
  ].map((c): [string, string] => ['linux', c]),
  ...['uname -a', 'ls -l /tmp', 'ps aux'].map((c): [string, string] => ['linux-shell', c]),
  ...['uname -a', 'df -h'].map((c): [string, string] => ['generic-exec', c]),
  ...[
    'show version', 'show running-config', 'show ip interface brief', 'show ip route | include 10.', 'show run | i hostname',
    'show run | section router bgp', 'show log | begin Nov', 'show interfaces | exclude down', 'show run | count interface',
    'show run | inc ^interface', 'ping 10.0.0.1', 'traceroute 10.0.0.1', 'dir flash:', 'more flash:notes.txt', 'show clock',
  ].map((c): [string, string] => ['ios', c]),
  ['ios-exec', 'show version'],
  ...['show version', 'show interface brief | json', 'show version | grep uptime', 'show log | last 10', 'show run | sec bgp',
    'show ip route vrf all | include 10.', 'ping6 ::1', 'traceroute6 ::1', 'dir bootflash:'].map((c): [string, string] => ['nxos', c]),
  ...['show version', 'show interfaces | json', 'show run | section bgp', 'show ip route | nz', 'more flash:startup-config']
    .map((c): [string, string] => ['eos', c]),
  ...['show version', 'show version | display xml', 'show configuration | display set', 'show route | match 10.0 | count',
    'show log messages | last 20', 'show interfaces terse | except down', 'show route | find 10.0.0.0', 'show system uptime | no-more',
    'show interfaces | match "ge-0/0/0"', 'ping 10.0.0.1 count 3', 'traceroute 10.0.0.1'].map((c): [string, string] => ['junos', c]),
  ...['display version', 'display interface brief | include up', 'get system status', 'show version', 'ping 10.0.0.1', 'tracert 10.0.0.1']
    .map((c): [string, string] => ['generic', c]),
];

t.test('legitimate read-only commands stay allowed', async (t) => {
  t.comment(`legitimate corpus: ${LEGITIMATE.length} entries on ${new Set(LEGITIMATE.map(([d]) => d)).size} kinds of device`);
  for (const [dev, command] of LEGITIMATE) {
    const d = check(dev, command);
    t.ok(d.allowed, `${dev}: ${esc(command)}${d.allowed ? '' : ` — ${d.message}`}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Properties

const EXEC_METACHARS = [...'|;&$`><()\n\r\t*?[]{}~#!\'"\\^']
  .concat(['\u0000', '\u001b', '\u007f', '\u00a0', '\u2028', '\u200b', '\uff5c', '\u0430']);
const LINUX_ALLOWED = LEGITIMATE.filter(([d]) => d === 'linux').map(([, c]) => c);

t.test('property: an allowed exec command with any metacharacter inserted anywhere is refused', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fc.constantFrom(...LINUX_ALLOWED), fc.constantFrom(...EXEC_METACHARS), fc.nat(), fc.string({ maxLength: 8 }), (cmd, meta, pos, tail) => {
      runs++;
      const at = pos % (cmd.length + 1);
      const evil = `${cmd.slice(0, at)}${meta}${tail}${cmd.slice(at)}`;
      return !check('linux', evil).allowed && !check('generic-exec', evil).allowed;
    }),
    { numRuns: 3000, seed: SEED },
  );
  t.equal(runs, 3000);
});

t.test('property: allowed commands stay allowed with extra whitespace; whitespace never changes a decision', async (t) => {
  const spaced = (cmd: string, gaps: string[]) => {
    const words = cmd.split(' ');
    return words.map((w, i) => (i === 0 ? `${gaps[0] ?? ''}${w}` : `${gaps[i % gaps.length] ?? ' '}${w}`)).join('');
  };
  // Spaces only: an interactive shell or a network CLI completes words on tab, so tab is refused (see the corpus).
  const gap = fc.array(fc.constantFrom(' ', '  ', '   '), { minLength: 1, maxLength: 6 });
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.constantFrom(...LEGITIMATE), gap, ([dev, cmd], gaps) => check(dev, spaced(cmd, gaps)).allowed && check(dev, `  ${cmd}   `).allowed),
    { numRuns: 2000, seed: SEED },
  ), '2000 spaced legitimate commands stay allowed');
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.constantFrom(...ESCAPES.filter(([, dev]) => !dev.startsWith('generic'))), gap, ([, dev, cmd], gaps) => !check(dev, cmd.replace(/ /g, gaps.join(''))).allowed),
    { numRuns: 2000, seed: SEED },
  ), '2000 spaced escapes stay refused');
});

/** Options of allowed programs that write, execute, follow forever or set state. */
const FORBIDDEN_OPTIONS: Record<string, string[]> = {
  ls: ['-R', '--color=always', '-I', '--hyperlink', '--dired', '-D'],
  cat: ['-', '--show-all=x', '-u', '--help'],
  head: ['-c', '-n5', '--lines=5', '-q', '-z'],
  tail: ['-f', '-F', '--follow', '-s', '--pid', '--retry', '-c'],
  grep: ['-r', '-R', '-f', '-d', '-D', '--include=x', '--exclude-from=x', '-z'],
  wc: ['--files0-from=/tmp/x', '-L'],
  df: ['--output=source', '-B', '--sync', '-x'],
  free: ['-s', '-c', '--seconds', '--count'],
  uname: ['-x', '--help'],
  uptime: ['-V', '--container'],
  id: ['-Z', '-z', '--context'],
  hostname: ['-F', '-b', '--file', '-f', '-s', 'evil'],
  date: ['-s', '--set=x', '-f', '--file=x', '-d', '010100002020', '--debug'],
  ps: ['e', 'eww', '-o environ', '--sort=pid', 'S', 'c'],
  ss: ['-K', '-D', '-F', '-N', '-E', '--kill', '--diag=x', '-b'],
  ip: ['-b', '-batch', '-force', '-n', '-netns', '-c'],
};

t.test('property: argv mixing allowed and forbidden options is refused', async (t) => {
  const entries = Object.entries(FORBIDDEN_OPTIONS);
  t.same(entries.map(([k]) => k).filter((k) => !EXEC_COMMANDS.has(k)), [], 'every program listed here is on the allow-list');
  const benign: Record<string, string[]> = { ls: ['-l', '/tmp'], cat: ['/etc/hostname'], head: ['/etc/hostname'], tail: ['/etc/hostname'],
    grep: ['root', '/etc/passwd'], wc: ['/etc/hostname'], df: ['-h'], free: ['-m'], uname: ['-a'], uptime: ['-p'], id: ['-u'],
    hostname: [], date: ['-u'], ps: ['aux'], ss: ['-tln'], ip: ['-4'] };
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.constantFrom(...entries), fc.nat(), fc.nat(), ([prog, bad], i, j) => {
      const opt = bad[i % bad.length]!;
      const ok = benign[prog]!;
      const at = j % (ok.length + 1);
      const argv = [...ok.slice(0, at), opt, ...ok.slice(at)];
      return !check('linux', [prog, ...argv].join(' ')).allowed;
    }),
    { numRuns: 2000, seed: SEED },
  ), '2000 argv with a forbidden option refused');
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/), fc.array(fc.stringMatching(/^[A-Za-z0-9._\/-]{1,8}$/), { maxLength: 3 }), (prog, args) => {
      fc.pre(!EXEC_COMMANDS.has(prog));
      return !check('linux', [prog, ...args].join(' ')).allowed;
    }),
    { numRuns: 2000, seed: SEED },
  ), '2000 unknown programs refused');
});

t.test('property: any prefix of a writing output filter is refused on IOS and Junos', async (t) => {
  const cases: Array<[string, string]> = [
    ...['redirect', 'append', 'tee', 'format'].flatMap((f) => [...f].map((_, n): [string, string] => ['ios', f.slice(0, n + 1)])),
    ...['save', 'append', 'tee', 'request', 'refresh', 'hold'].flatMap((f) => [...f].map((_, n): [string, string] => ['junos', f.slice(0, n + 1)])),
  ];
  for (const [dev, word] of cases) {
    t.notOk(check(dev, `show version | ${word} x`).allowed, `${dev}: | ${word}`);
  }
});

// ---------------------------------------------------------------------------------------------
// End to end: a real OpenSSH sshd as an exec-mode Linux device behind a real daemon.

t.test('end to end: escapes that would write a file are refused by a real daemon in front of a real sshd', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-escape-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.match(dir, /^[A-Za-z0-9._/-]+$/, 'the target directory is a plain path, so only the escape syntax can be refused');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, [
    'rules:',
    '  - callers: ["anonymous"]',
    '    devices: { ids: ["lnx"] }',
    '    presets: [read-only]',
    '  - callers: ["anonymous"]',
    '    devices: { ids: ["lnx-open"] }',
    '',
  ].join('\n'));
  const td = await startTestDaemon({
    argv: ['--grpc.auth.policyFile', policyFile],
    devices: [sshdDevice(sshd, { id: 'lnx' }), sshdDevice(sshd, { id: 'lnx-open' })],
  });
  t.teardown(() => td.stop());
  const run = m(td.proxy, 'Run');
  type RunResult = { results: Array<{ output: string; exit_status: number }> };

  const sample = (f: string): string[] => [
    `ls /tmp | find ${dir} -maxdepth 0 -exec touch ${f} {} +`,
    `id | sort -o ${f}`,
    `uname | uniq - ${f}`,
    `id > ${f}`,
    `uname -a >> ${f}`,
    `ls ${dir} ; touch ${f}`,
    `ls ${dir} && touch ${f}`,
    `ls ${dir} || touch ${f}`,
    `cat $(touch ${f})`,
    `ls \`touch ${f}\``,
    `touch ${f}`,
    `tee ${f}`,
    `find ${dir} -maxdepth 0 -exec touch ${f} ;`,
    `sort -o ${f} /etc/hostname`,
    `ss -D ${f}`,
    `awk BEGIN{system("touch ${f}")}`,
    `sed -n 1w${f} /etc/hostname`,
    `xargs touch ${f}`,
    `env touch ${f}`,
    `ls ${dir}\u00a0;touch ${f}`,
    `date -f ${f}`,
    `hostname -F ${f}`,
    `ip -b ${f}`,
    `grep -r x ${dir} ; touch ${f}`,
  ];
  const commands = sample(join(dir, 'PWNED-X'));
  t.ok(commands.length >= 20, `${commands.length} writing escapes sent through the daemon`);
  for (const [i, template] of commands.entries()) {
    const file = join(dir, `PWNED-${i}`);
    const command = template.replaceAll(join(dir, 'PWNED-X'), file);
    const err = (await td.call(run, { device: 'lnx', commands: [command] }).catch((e: unknown) => e)) as { code?: number; details?: string };
    t.equal(err.code, 7, `PERMISSION_DENIED: ${esc(command)}`);
    t.match(err.details ?? '', /^caller anonymous may not run '.*' on lnx: denied by rule 1 \(preset read-only: /s);
    t.notOk(existsSync(file), `no file was written by ${esc(command)}`);
  }
  // Allowed reads run for real through the same path.
  const ok = (await td.call(run, { device: 'lnx', commands: ['uname -s', `ls -la ${dir}`, 'id -u'] })) as RunResult;
  t.equal(ok.results[0]!.output.trim(), 'Linux');
  t.match(ok.results[1]!.output, /policy\.yaml/);
  t.equal(ok.results.map((r) => r.exit_status).join(','), '0,0,0');
  // The same escape does write through a device without the preset: the refusals above are the policy's doing.
  const control = join(dir, 'CONTROL');
  await td.call(run, { device: 'lnx-open', commands: [`id | sort -o ${control}`] });
  t.ok(existsSync(control), 'without the preset, the escape writes the file');
});

t.test('docs/security.md lists exactly the programs and keywords the preset allows', async (t) => {
  const doc = readFileSync(new URL('../docs/security.md', import.meta.url), 'utf8');
  const exec = doc.slice(doc.indexOf('### Exec allow-list'), doc.indexOf('### Configuration intent'));
  const documented = [...exec.matchAll(/^\| ((?:`[a-z]+`(?:, )?)+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!));
  t.same(documented.sort(), [...EXEC_COMMANDS.keys()].sort(), 'exec allow-list table');
  for (const prefix of DENIED_PATH_PREFIXES) t.ok(exec.includes(`\`${prefix}\``), `denied path ${prefix} documented`);
  const ro = doc.slice(doc.indexOf('### Read-only preset'), doc.indexOf('### Exec allow-list'));
  for (const [platform, keywords] of Object.entries(READ_KEYWORDS)) {
    const row = new RegExp(`^\\s*\\| \`${platform}\` \\| (.*?) \\|`, 'm').exec(ro)?.[1] ?? '';
    t.same([...row.matchAll(/`([a-z0-9]+)`/g)].map((x) => x[1]), keywords, `${platform} keywords documented`);
  }
});

/**
 * Dell: OS10 (SmartFabric OS10), Force10 / OS9 (FTOS), OS6 (N-series, alias dell_powerconnect).
 *
 * Facts: netmiko/dell/dell_os10_ssh.py (terminal length 0, config check ")#"),
 * netmiko/dell/dell_force10_ssh.py ("banner login acknowledge" y/n before the prompt, config
 * check ")#"), netmiko/dell/dell_dnos6.py (enable before "terminal length 0"),
 * netmiko/dell/dell_powerconnect.py ("terminal datadump"), scrapli/definitions/dell_emc.yaml
 * (prompts `>`, `#`, `\([\w.\-@/:+]{0,32}\)#`, failures "Command not found", "Incomplete
 * command", "% Invalid input detected at '^' marker.").
 */
import type { Profile } from '../profiles.js';
import { ciscoStyle, ENABLE, errors, iosPrompt, PAGERS, pat } from './build.js';

const CARET: readonly [string, string] = ['^\\s*\\^\\s*$', '^'];
const DELL_ERRORS = errors([
  ['^% ?(?:Error|Invalid|Incomplete|Ambiguous|Unrecognized|Bad)', '%'],
  ['^\\s*(?:Command not found|Incomplete command)', 'command'],
  ['^An invalid interface has been used', 'An invalid interface'],
  ['^% ', '% '],
  CARET,
]);

export const DELL_OS10: Profile = ciscoStyle({
  platform: 'dell_os10',
  // "OS10#", "OS10(config)#", "OS10(conf-if-eth1/1/1)#"
  prompt: iosPrompt(),
  config: pat('\\(conf[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(conf' }),
  paging: ['terminal length 0'],
  pagers: [PAGERS.more],
  errors: DELL_ERRORS,
  endMarker: ['show'],
});

export const DELL_FORCE10: Profile = ciscoStyle({
  platform: 'dell_force10',
  // "Dell>", "Dell#", "Dell(conf)#", "Dell(conf-if-te-1/1)#"
  prompt: iosPrompt(),
  config: pat('\\(conf[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(conf' }),
  paging: ['terminal length 0'],
  pagers: [PAGERS.more],
  errors: DELL_ERRORS,
  enable: ENABLE,
  configEnter: ['configure'],
  endMarker: ['show'],
});

export const DELL_OS6: Profile = ciscoStyle({
  platform: 'dell_os6',
  // "console>", "console#", "console(config)#", "console(config-if-Gi1/0/1)#"
  prompt: iosPrompt(),
  config: pat('\\(config[\\w.\\-@/:+]{0,40}\\)#\\s*$', 'config prompt', { must: '(config' }),
  paging: ['terminal length 0'],
  pagers: [PAGERS.more],
  errors: DELL_ERRORS,
  enable: ENABLE,
  configEnter: ['configure'],
  endMarker: ['show'],
});

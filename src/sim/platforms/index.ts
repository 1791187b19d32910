/**
 * The simulated devices of the platform catalogue (src/platforms/catalog), registered in
 * ../platforms.ts: prompts, pager, paging command, enable, configuration and error texts per
 * platform, played by kit.ts. `simRunningConfig` is what each one's long command prints, for
 * tests that compare outputs byte for byte.
 */
import type { CatalogPlatform } from '../../platforms/catalog/index.js';
import { ARUBA_AOSCX_SIM, ARUBA_OS_SIM, HP_PROCURVE_SIM } from './aruba.js';
import { BROCADE_FASTIRON_SIM, BROCADE_NETIRON_SIM } from './brocade.js';
import { CISCO_ASA_SIM, CISCO_XR_SIM } from './cisco.js';
import { DELL_FORCE10_SIM, DELL_OS10_SIM, DELL_OS6_SIM } from './dell.js';
import { exosConfig, EXTREME_EXOS_SIM } from './extreme.js';
import { fortiConfig, FORTINET_SIM } from './fortinet.js';
import { iosRunningConfig } from './ios-like.js';
import type { VendorSpec } from './kit.js';
import { MIKROTIK_SIM, routerosExport } from './mikrotik.js';
import { NOKIA_SROS_SIM, srosConfig } from './nokia.js';
import { mdcliConfig, NOKIA_SROS_MDCLI_SIM } from './nokia-mdcli.js';
import { panosConfig, PALOALTO_PANOS_SIM } from './paloalto.js';
import { HP_COMWARE_SIM, HUAWEI_SIM, HUAWEI_VRPV8_SIM, vrpConfig } from './vrp.js';
import { VYOS_SIM, vyosConfig } from './vyos.js';

export type VendorSimPlatform = Exclude<CatalogPlatform, 'autodetect'>;

export const VENDOR_SIMS: Record<VendorSimPlatform, VendorSpec> = {
  cisco_xr: CISCO_XR_SIM,
  cisco_asa: CISCO_ASA_SIM,
  huawei: HUAWEI_SIM,
  huawei_vrpv8: HUAWEI_VRPV8_SIM,
  hp_comware: HP_COMWARE_SIM,
  hp_procurve: HP_PROCURVE_SIM,
  aruba_os: ARUBA_OS_SIM,
  aruba_aoscx: ARUBA_AOSCX_SIM,
  nokia_sros: NOKIA_SROS_SIM,
  nokia_sros_mdcli: NOKIA_SROS_MDCLI_SIM,
  fortinet: FORTINET_SIM,
  paloalto_panos: PALOALTO_PANOS_SIM,
  mikrotik_routeros: MIKROTIK_SIM,
  dell_os10: DELL_OS10_SIM,
  dell_force10: DELL_FORCE10_SIM,
  dell_os6: DELL_OS6_SIM,
  brocade_fastiron: BROCADE_FASTIRON_SIM,
  brocade_netiron: BROCADE_NETIRON_SIM,
  extreme_exos: EXTREME_EXOS_SIM,
  vyos: VYOS_SIM,
};

export function vendorSim(platform: string): VendorSpec | undefined {
  return Object.prototype.hasOwnProperty.call(VENDOR_SIMS, platform) ? VENDOR_SIMS[platform as VendorSimPlatform] : undefined;
}

export const VENDOR_HOSTNAMES = Object.fromEntries(Object.entries(VENDOR_SIMS).map(([p, s]) => [p, s.hostname])) as Record<VendorSimPlatform, string>;

/** The long command of each simulated catalogue platform and the exact text it prints. */
export const LONG_COMMAND: Record<VendorSimPlatform, { command: string; text: (hostname: string, lines: number) => string }> = {
  cisco_xr: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  cisco_asa: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  huawei: { command: 'display current-configuration', text: (h, n) => vrpConfig(h, n, false) },
  huawei_vrpv8: { command: 'display current-configuration', text: (h, n) => vrpConfig(h, n, false) },
  hp_comware: { command: 'display current-configuration', text: (h, n) => vrpConfig(h, n, true) },
  hp_procurve: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  aruba_os: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  aruba_aoscx: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  nokia_sros: { command: 'admin display-config', text: srosConfig },
  nokia_sros_mdcli: { command: 'admin show configuration', text: mdcliConfig },
  fortinet: { command: 'show full-configuration', text: fortiConfig },
  paloalto_panos: { command: 'show config running', text: panosConfig },
  mikrotik_routeros: { command: '/export', text: routerosExport },
  dell_os10: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  dell_force10: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  dell_os6: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  brocade_fastiron: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  brocade_netiron: { command: 'show running-config', text: (h, n) => iosRunningConfig(h, n) },
  extreme_exos: { command: 'show configuration', text: exosConfig },
  vyos: { command: 'show configuration', text: vyosConfig },
};

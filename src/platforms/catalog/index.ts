/**
 * The platform catalogue: profiles added for Netmiko parity (issue 19), registered in
 * ../profiles.ts. One file per vendor family; docs/platforms.md is the table of what each does.
 */
import type { Platform } from '../../config/types.js';
import type { Profile } from '../profiles.js';
import { ARUBA_AOSCX, ARUBA_OS, HP_PROCURVE } from './aruba.js';
import { BROCADE_FASTIRON, BROCADE_NETIRON } from './brocade.js';
import { CISCO_ASA, CISCO_XR } from './cisco.js';
import { DELL_FORCE10, DELL_OS10, DELL_OS6 } from './dell.js';
import { EXTREME_EXOS } from './extreme.js';
import { FORTINET } from './fortinet.js';
import { MIKROTIK_ROUTEROS } from './mikrotik.js';
import { NOKIA_SROS, NOKIA_SROS_MDCLI } from './nokia.js';
import { PALOALTO_PANOS } from './paloalto.js';
import { AUTODETECT_PROBE } from './probe.js';
import { HP_COMWARE, HUAWEI, HUAWEI_VRPV8 } from './vrp.js';
import { VYOS } from './vyos.js';

/** The platforms whose profiles live in ../profiles.ts itself. */
export type CorePlatform = 'linux' | 'cisco_ios' | 'cisco_nxos' | 'arista_eos' | 'juniper_junos' | 'generic';
export type CatalogPlatform = Exclude<Platform, CorePlatform>;

export const CATALOG_PROFILES: Record<CatalogPlatform, Profile> = {
  cisco_xr: CISCO_XR,
  cisco_asa: CISCO_ASA,
  huawei: HUAWEI,
  huawei_vrpv8: HUAWEI_VRPV8,
  hp_comware: HP_COMWARE,
  hp_procurve: HP_PROCURVE,
  aruba_os: ARUBA_OS,
  aruba_aoscx: ARUBA_AOSCX,
  nokia_sros: NOKIA_SROS,
  nokia_sros_mdcli: NOKIA_SROS_MDCLI,
  fortinet: FORTINET,
  paloalto_panos: PALOALTO_PANOS,
  mikrotik_routeros: MIKROTIK_ROUTEROS,
  dell_os10: DELL_OS10,
  dell_force10: DELL_FORCE10,
  dell_os6: DELL_OS6,
  brocade_fastiron: BROCADE_FASTIRON,
  brocade_netiron: BROCADE_NETIRON,
  extreme_exos: EXTREME_EXOS,
  vyos: VYOS,
  autodetect: AUTODETECT_PROBE,
};

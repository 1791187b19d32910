/**
 * Platform names as people already write them. Users migrating from Netmiko write its
 * `device_type` (docs/platforms.md lists them); Scrapli users write theirs. Every name here
 * maps to one of warmpool's profiles, so `platform: cisco_xe` and `platform: cisco_iosxe` both
 * mean `cisco_ios`. Names are matched case-insensitively, and Netmiko's `_ssh` suffix
 * is accepted as Netmiko accepts it (ssh_dispatcher.py adds `<name>_ssh` for every class).
 */
import { PLATFORMS, type Platform } from '../config/types.js';
import { didYouMean } from '../cli/did-you-mean.js';

/** Alias → canonical platform. Canonical names (PLATFORMS) are not repeated here. */
export const PLATFORM_ALIASES: Readonly<Record<string, Platform>> = {
  // Netmiko device_type names (netmiko/ssh_dispatcher.py CLASS_MAPPER_BASE) that share a driver class.
  cisco_xe: 'cisco_ios', // CiscoIosSSH
  juniper: 'juniper_junos', // JuniperSSH
  huawei_vrp: 'huawei', // HuaweiSSH
  h3c_comware: 'hp_comware', // HPComwareSSH
  aruba_procurve: 'hp_procurve', // HPProcurveSSH
  aruba_osswitch: 'hp_procurve', // HPProcurveSSH
  alcatel_sros: 'nokia_sros', // NokiaSrosSSH
  dell_os9: 'dell_force10', // DellForce10SSH
  dell_dnos9: 'dell_force10',
  dell_dnos6: 'dell_os6', // DellDNOS6SSH
  dell_powerconnect: 'dell_os6', // PowerConnect: set pagingCommand "terminal datadump" (Netmiko's choice)
  ruckus_fastiron: 'brocade_fastiron', // RuckusFastironSSH
  extreme_netiron: 'brocade_netiron', // ExtremeNetironSSH
  extreme: 'extreme_exos', // ExtremeExosSSH
  vyatta_vyos: 'vyos', // VyOSSSH
  brocade_vyos: 'vyos',
  ubiquiti_edgerouter: 'vyos', // UbiquitiEdgeRouterSSH subclasses VyOSSSH
  cumulus_linux: 'linux', // bash behind the login, like LinuxSSH
  ovs_linux: 'linux',
  f5_linux: 'linux',
  corelight_linux: 'linux',
  // Scrapli platform names (scrapli/definitions/*.yaml).
  cisco_iosxe: 'cisco_ios',
  cisco_iosxr: 'cisco_xr',
  nokia_sros_classic: 'nokia_sros',
  fortinet_fortios: 'fortinet',
  vyos_vyos: 'vyos',
};

/**
 * Netmiko device_types with no warmpool profile yet: named in the refusal so the user learns
 * it is a known gap (and the `generic` way round it), not a typo.
 */
const NETMIKO_WITHOUT_PROFILE = new Set(
  ('a10 accedian adtran_os adva_fsp150f2 adva_fsp150f3 alaxala_ax36s alaxala_ax26s alcatel_aos allied_telesis_awplus ' +
    'apresia_aeos arris_cer asterfusion_asternos audiocode_72 audiocode_66 audiocode_shell avaya_ers avaya_vsp ' +
    'bintec_boss broadcom_icos brocade_fos brocade_nos brocade_vdx checkpoint_gaia calix_b6 casa_cmts cdot_cros centec_os ' +
    'ciena_saos ciena_saos10 ciena_waveserver cisco_apic cisco_ftd cisco_s200 cisco_s300 cisco_tp cisco_viptela cisco_wlc ' +
    'cloudgenix_ion coriant dell_sonic dell_isilon dlink_ds digi_transport edgecore_sonic endace ekinops_ek360 eltex ' +
    'eltex_esr enterasys ericsson_ipos ericsson_mltn63 ericsson_mltn66 extreme_ers extreme_nos extreme_slx extreme_tierra ' +
    'extreme_vdx extreme_vsp extreme_wing f5_ltm f5_tmsh fiberstore_fsos fiberstore_fsosv2 fiberstore_networkos flexvnf ' +
    'garderos_grs generic_termserver hillstone_stoneos huawei_smartaxmmi huawei_smartax huawei_olt ' +
    'infinera_packet ipinfusion_ocnos juniper_screenos keymile keymile_nos lancom_lcossx4 mikrotik_switchos mellanox ' +
    'mellanox_mlnxos mrv_lx mrv_optiswitch nec_ix netapp_cdot netgear_prosafe netscaler nokia_srl oneaccess_oneos pluribus ' +
    'quanta_mesh rad_etx raisecom_roap ruijie_os silverpeak_vxoa sixwind_os sophos_sfos supermicro_smis telcosystems_binos ' +
    'teldat_cit tplink_jetstream ubiquiti_edge ubiquiti_edgeswitch ubiquiti_unifiswitch vertiv_mph watchguard_fireware ' +
    'zte_zxros yamaha zyxel_os maipu').split(' '),
);

/** Every name `platform` accepts: the canonical ones first, then the aliases. */
export function acceptedPlatformNames(): string[] {
  return [...PLATFORMS, ...Object.keys(PLATFORM_ALIASES)];
}

export type PlatformNameResult = { ok: true; platform: Platform; alias?: string } | { ok: false; problem: string };

/**
 * The canonical platform for a name as written in the inventory or over the API, or the
 * reason it is refused ("did you mean" for a near miss, the `generic` route for a Netmiko
 * name warmpool has no profile for).
 */
export function resolvePlatformName(raw: unknown): PlatformNameResult {
  const list = `one of ${PLATFORMS.join(', ')} (or an alias, see docs/platforms.md)`;
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, problem: `must be ${list}` };
  let name = raw.trim().toLowerCase();
  if (name.length > 64) return { ok: false, problem: `must be ${list} (got a ${name.length}-character string)` };
  const canonical = (n: string): Platform | undefined =>
    (PLATFORMS as readonly string[]).includes(n) ? (n as Platform) : Object.prototype.hasOwnProperty.call(PLATFORM_ALIASES, n) ? PLATFORM_ALIASES[n] : undefined;
  let hit = canonical(name);
  if (hit === undefined && name.endsWith('_ssh')) {
    name = name.slice(0, -4);
    hit = canonical(name);
  }
  if (hit !== undefined) return hit === raw ? { ok: true, platform: hit } : { ok: true, platform: hit, alias: raw };
  const shown = JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}...` : raw);
  if (NETMIKO_WITHOUT_PROFILE.has(name)) {
    return {
      ok: false,
      problem: `${shown} is a Netmiko device_type warmpool has no profile for yet; use platform: generic with prompt, pagingCommand and enableCommand (see docs/platforms.md)`,
    };
  }
  const guess = didYouMean(name, acceptedPlatformNames());
  return { ok: false, problem: `must be ${list} (got ${shown})${guess ? `; did you mean "${guess}"?` : ''}` };
}

//! The command line: obuspa's short options, so existing init scripts keep working, plus long
//! options a newcomer can read.
//!
//! obuspa options we do not implement (`-m`, `-e`, `-R`, `-x`) are accepted with a warning
//! naming them, rather than refusing to start a router that used them.

use std::ffi::OsString;
use std::path::PathBuf;

/// Where log lines go (`-l`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard error (the default; procd collects it on OpenWrt).
    Stderr,
    /// Standard output.
    Stdout,
    /// The system log through `/dev/log` (OpenWrt's logd, syslog-ng, journald).
    Syslog,
    /// Appended to a file.
    File(PathBuf),
}

/// Everything the command line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-r FILE`: the factory-reset defaults (obuspa syntax).
    pub reset_file: Option<PathBuf>,
    /// `-f FILE`: the database.
    pub db: PathBuf,
    /// `-v LEVEL`: 0 off, 1 errors, 2 warnings, 3 info (default), 4 debug, 5 trace.
    pub verbosity: u8,
    /// `-p`: print every USP message sent and received, decoded.
    pub protocol_trace: bool,
    /// `-l`: where log lines go.
    pub log: LogTarget,
    /// `-i IFACE`: the WAN interface (its MAC address is the default serial number).
    pub interface: Option<String>,
    /// `-s PATH`: the local CLI's Unix socket.
    pub cli_socket: PathBuf,
    /// `-c COMMAND...`: run one local CLI command against the running daemon, then exit.
    pub command: Option<Vec<String>>,
    /// `-t FILE`: trusted CA certificates (PEM) for TLS; default: the system bundle.
    pub ca_file: Option<PathBuf>,
    /// `-a FILE`: the agent's client certificate (PEM; the key in the same file or `--key`).
    pub client_cert: Option<PathBuf>,
    /// `--key FILE`: the private key of `-a` when it is not in the same file.
    pub client_key: Option<PathBuf>,
    /// `--server-cert FILE` / `--server-key FILE`: the WebSocket server's certificate.
    pub server_cert: Option<(PathBuf, PathBuf)>,
    /// `--insecure`: do not verify TLS servers (labs only).
    pub insecure: bool,
    /// `--require-client-cert`: the WebSocket server takes only clients with a certificate
    /// from `-t` (TR-369 R-MTP.1).
    pub require_client_cert: bool,
    /// `USP_ENDPOINT_ID` or `--endpoint-id`: overrides the derived Endpoint ID.
    pub endpoint_id: Option<String>,
    /// `--oui`: the manufacturer OUI (six hex digits).
    pub oui: Option<String>,
    /// `--serial`: the serial number (default: the MAC address of `-i`).
    pub serial: Option<String>,
    /// `--reboot-command CMD`: what Device.Reboot() runs (on OpenWrt [`OPENWRT_REBOOT`] when
    /// not given); without one the agent restarts itself only.
    pub reboot_command: Option<String>,
    /// `--dhcp-options FILE`: DHCPv4 option 125 as hex text (written by the udhcpc hook),
    /// applied to the Controller table at start (`usp_areas::local_agent::dhcp`).
    pub dhcp_options: Option<PathBuf>,
    /// `--mdns ADDR:PORT`: answer DNS-SD queries for the WebSocket MTPs there
    /// (`0.0.0.0:5353`: the mDNS group).
    pub mdns: Option<std::net::SocketAddr>,
    /// `--platform NAME`: whose backends serve the router areas (Wi-Fi, software, firmware,
    /// diagnostics); `None`: detected ([`usp_areas::Platform::detect`]).
    pub platform: Option<usp_areas::Platform>,
    /// `--uci-dir DIR`: the UCI configuration directory (default `/etc/config`).
    pub uci_dir: Option<PathBuf>,
    /// `--ubus-socket PATH`: ubusd's socket (default: the ubus program's own).
    pub ubus_socket: Option<PathBuf>,
    /// `--hostapd-dir DIR`: hostapd's control sockets (default `/var/run/hostapd`).
    pub hostapd_dir: Option<PathBuf>,
    /// `--hostapd-conf DIR`: hostapd's configuration files (default `/etc/hostapd`).
    pub hostapd_conf: Option<PathBuf>,
    /// `--wpa-supplicant-dir DIR`: wpa_supplicant's control sockets (default
    /// `/var/run/wpa_supplicant`).
    pub wpa_supplicant_dir: Option<PathBuf>,
    /// `--dhcp-leases PATH`: dnsmasq's lease file for `Device.Hosts.` (default
    /// `/tmp/dhcp.leases`).
    pub dhcp_leases: Option<PathBuf>,
    /// `--uci-program PATH` / `--ubus-program PATH`: the OpenWrt programs (default: from
    /// `PATH`, or `$USP_UCI` / `$USP_UBUS`).
    pub programs: (Option<PathBuf>, Option<PathBuf>),
    /// `--sysupgrade-program PATH`: OpenWrt's sysupgrade, which flashes an activated firmware
    /// image (default: from `PATH`, or `$USP_SYSUPGRADE`).
    pub sysupgrade: Option<PathBuf>,
    /// `--opkg-program PATH`, `--opkg-root DIR`, `--opkg-conf FILE`: the opkg that
    /// Device.SoftwareModules. drives, an offline root for it (`opkg -o`) and its
    /// configuration file (`opkg -f`).
    pub opkg: (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>),
    /// `--help` was asked.
    pub help: bool,
    /// `--version` was asked.
    pub version: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reset_file: None,
            db: PathBuf::from(DEFAULT_DB),
            verbosity: 3,
            protocol_trace: false,
            log: LogTarget::Stderr,
            interface: None,
            cli_socket: PathBuf::from(DEFAULT_CLI_SOCKET),
            command: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            server_cert: None,
            insecure: false,
            require_client_cert: false,
            endpoint_id: None,
            oui: None,
            serial: None,
            reboot_command: None,
            dhcp_options: None,
            mdns: None,
            platform: None,
            uci_dir: None,
            ubus_socket: None,
            hostapd_dir: None,
            hostapd_conf: None,
            wpa_supplicant_dir: None,
            dhcp_leases: None,
            programs: (None, None),
            sysupgrade: None,
            opkg: (None, None, None),
            help: false,
            version: false,
        }
    }
}

/// What reboots an OpenWrt router when `--reboot-command` is not given.
pub const OPENWRT_REBOOT: &str = "/sbin/reboot";
/// The database used without `-f` (obuspa's default state directory).
pub const DEFAULT_DB: &str = "/usr/local/var/obuspa/usp.db";
/// The CLI socket used without `-s` (obuspa's default).
pub const DEFAULT_CLI_SOCKET: &str = "/tmp/usp_cli";

/// The `--help` text.
pub const HELP: &str = "\
uspagent - a USP (TR-369) agent, command-line compatible with obuspa

Usage: uspagent [OPTIONS]            run the agent
       uspagent -c COMMAND [ARGS..]  talk to the running agent

Options:
  -r, --reset-file FILE    factory defaults, obuspa syntax: lines `Device.X.Y \"value\"`;
                           applied on the first start (empty database); `+` lines also later
  -f, --db FILE            the database (default /usr/local/var/obuspa/usp.db)
  -v, --verbose LEVEL      0 off, 1 error, 2 warn, 3 info (default), 4 debug, 5 trace
  -p, --trace              print every USP message sent and received, decoded
  -l, --log WHERE          stderr (default), stdout, syslog, or a file name
  -i, --interface IFACE    WAN interface; its MAC address is the default serial number
  -s, --cli-socket PATH    local CLI socket (default /tmp/usp_cli)
  -t, --ca-file FILE       trusted CA certificates (PEM) for TLS (default: system bundle)
  -a, --client-cert FILE   client certificate (PEM) for TLS; key in the file or --key
      --key FILE           private key of --client-cert
      --server-cert FILE --server-key FILE
                           certificate of the agent's WebSocket server (wss)
      --insecure           do not verify TLS server certificates (labs only)
      --require-client-cert
                           the WebSocket server takes only clients with a certificate from -t
      --endpoint-id ID     Endpoint ID (default: $USP_ENDPOINT_ID, else os::<OUI>-<serial>)
      --oui HEX6           manufacturer OUI (default 00D09E)
      --serial TEXT        serial number
      --reboot-command CMD what Device.Reboot() runs (default: /sbin/reboot on openwrt,
                           elsewhere the agent restarts itself, the device stays up)
      --dhcp-options FILE  DHCPv4 option 125 (hex) naming a controller, applied at start
                           (OpenWrt: written by /etc/udhcpc.user.d/uspagent-opt125.user)
      --mdns ADDR:PORT     answer DNS-SD queries for the WebSocket MTPs (0.0.0.0:5353: mDNS)
      --platform NAME      the router's backends: openwrt (UCI, ubus, opkg), linux, or lab
                           (simulated radios and images, any machine); default: openwrt
                           when /etc/openwrt_release exists, else linux
      --uci-dir DIR        openwrt: the UCI configuration directory (default /etc/config)
      --ubus-socket PATH   openwrt: ubusd's socket (default: the ubus program's own);
      --hostapd-dir DIR    linux: hostapd's control sockets (default /var/run/hostapd)
      --hostapd-conf DIR   linux: hostapd's *.conf files, where Wi-Fi settings persist
                           (default /etc/hostapd)
      --wpa-supplicant-dir DIR
                           linux: wpa_supplicant's control sockets, the station
                           interfaces (default /var/run/wpa_supplicant)
      --dhcp-leases PATH   dnsmasq's lease file, for Device.Hosts (default /tmp/dhcp.leases)
      --uci-program PATH --ubus-program PATH
                           openwrt: the uci and ubus programs (default: from PATH, or
                           the environment variables USP_UCI and USP_UBUS)
      --sysupgrade-program PATH
                           openwrt: what flashes an activated firmware image (default:
                           sysupgrade from PATH, or USP_SYSUPGRADE)
      --opkg-program PATH  openwrt: the opkg program (default: opkg from PATH, or USP_OPKG)
      --opkg-root DIR --opkg-conf FILE
                           openwrt: an offline root and configuration file for opkg
  -h, --help               this text
  -V, --version            the version

Local commands (-c), answered by the running agent with full access:
  get PATH...                  parameters (wildcards and search expressions allowed)
  set PATH VALUE               one parameter
  add OBJ. [NAME=VALUE...]     a new instance
  del PATH...                  delete instances
  operate 'CMD()' [NAME=VALUE...]
  instances PATH...            instance paths
  gsdm PATH...                 the supported data model
  dump                         every parameter and value
  stop                         shut the agent down cleanly
";

/// Why the command line was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct OptionsError(pub String);

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (see uspagent --help)", self.0)
    }
}

impl std::error::Error for OptionsError {}

/// Parses the arguments (without the program name) and the `USP_ENDPOINT_ID` value.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env_endpoint_id: Option<String>,
) -> Result<Options, OptionsError> {
    use lexopt::prelude::*;
    let mut o =
        Options { endpoint_id: env_endpoint_id.filter(|e| !e.is_empty()), ..Options::default() };
    let mut p = lexopt::Parser::from_args(args);
    let mut server_key = None;
    let mut server_cert = None;
    let bad = |e: lexopt::Error| OptionsError(e.to_string());
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            Short('r') | Long("reset-file") => o.reset_file = Some(path(&mut p)?),
            Short('f') | Long("db") => o.db = path(&mut p)?,
            Short('v') | Long("verbose") => o.verbosity = verbosity(&text(&mut p)?)?,
            Short('p') | Long("trace") => o.protocol_trace = true,
            Short('l') | Long("log") => o.log = log_target(&text(&mut p)?),
            Short('i') | Long("interface") => o.interface = Some(text(&mut p)?),
            Short('s') | Long("cli-socket") => o.cli_socket = path(&mut p)?,
            Short('t') | Long("ca-file") => o.ca_file = Some(path(&mut p)?),
            Short('a') | Long("client-cert") => o.client_cert = Some(path(&mut p)?),
            Long("key") => o.client_key = Some(path(&mut p)?),
            Long("server-cert") => server_cert = Some(path(&mut p)?),
            Long("server-key") => server_key = Some(path(&mut p)?),
            Long("insecure") => o.insecure = true,
            Long("require-client-cert") => o.require_client_cert = true,
            Long("endpoint-id") => o.endpoint_id = Some(text(&mut p)?),
            Long("oui") => o.oui = Some(oui(&text(&mut p)?)?),
            Long("serial") => o.serial = Some(text(&mut p)?),
            Long("reboot-command") => o.reboot_command = Some(text(&mut p)?),
            Long("dhcp-options") => o.dhcp_options = Some(path(&mut p)?),
            Long("mdns") => {
                let text = text(&mut p)?;
                let addr = text
                    .parse()
                    .map_err(|_| OptionsError(format!("--mdns {text}: not ADDR:PORT")))?;
                o.mdns = Some(addr);
            }
            Long("platform") => {
                let name = text(&mut p)?;
                o.platform = Some(name.parse().map_err(|e| OptionsError(format!("{e}")))?);
            }
            Long("uci-dir") => o.uci_dir = Some(path(&mut p)?),
            Long("ubus-socket") => o.ubus_socket = Some(path(&mut p)?),
            Long("hostapd-dir") => o.hostapd_dir = Some(path(&mut p)?),
            Long("hostapd-conf") => o.hostapd_conf = Some(path(&mut p)?),
            Long("wpa-supplicant-dir") => o.wpa_supplicant_dir = Some(path(&mut p)?),
            Long("dhcp-leases") => o.dhcp_leases = Some(path(&mut p)?),
            Long("uci-program") => o.programs.0 = Some(path(&mut p)?),
            Long("ubus-program") => o.programs.1 = Some(path(&mut p)?),
            Long("sysupgrade-program") => o.sysupgrade = Some(path(&mut p)?),
            Long("opkg-program") => o.opkg.0 = Some(path(&mut p)?),
            Long("opkg-root") => o.opkg.1 = Some(path(&mut p)?),
            Long("opkg-conf") => o.opkg.2 = Some(path(&mut p)?),
            Short('h') | Long("help") => o.help = true,
            Short('V') | Long("version") => o.version = true,
            Short('c') | Long("command") => {
                let mut words: Vec<String> = Vec::new();
                // `-c get Device.` : everything after -c is the command, options included.
                for w in p.raw_args().map_err(bad)? {
                    words.push(
                        w.into_string().map_err(|_| OptionsError("non-UTF-8 argument".into()))?,
                    );
                }
                if words.is_empty() {
                    return Err(OptionsError("-c needs a command, e.g. -c get Device.".into()));
                }
                o.command = Some(words);
            }
            Short(c @ ('m' | 'e' | 'R' | 'x')) => {
                let v = text(&mut p)?;
                log::warn!("obuspa option -{c} {v} is not supported by uspagent and is ignored");
            }
            Value(v) => {
                return Err(OptionsError(format!("unexpected argument {:?}", v.to_string_lossy())));
            }
            other => return Err(bad(other.unexpected())),
        }
    }
    o.server_cert = match (server_cert, server_key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err(OptionsError("--server-cert and --server-key go together".into())),
    };
    Ok(o)
}

fn text(p: &mut lexopt::Parser) -> Result<String, OptionsError> {
    let v = p.value().map_err(|e| OptionsError(e.to_string()))?;
    v.into_string().map_err(|_| OptionsError("non-UTF-8 argument".into()))
}

fn path(p: &mut lexopt::Parser) -> Result<PathBuf, OptionsError> {
    p.value().map(PathBuf::from).map_err(|e| OptionsError(e.to_string()))
}

fn verbosity(v: &str) -> Result<u8, OptionsError> {
    match v.parse::<u8>() {
        Ok(n) if n <= 5 => Ok(n),
        _ => Err(OptionsError(format!("verbosity {v:?} is not a level from 0 to 5"))),
    }
}

fn log_target(v: &str) -> LogTarget {
    match v {
        "stderr" => LogTarget::Stderr,
        "stdout" => LogTarget::Stdout,
        "syslog" => LogTarget::Syslog,
        file => LogTarget::File(PathBuf::from(file)),
    }
}

fn oui(v: &str) -> Result<String, OptionsError> {
    if v.len() == 6 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(OptionsError(format!("OUI {v:?} is not six hexadecimal digits")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn an_obuspa_init_script_line_parses() {
        let o =
            parse(args("-p -v 4 -r /etc/usp/factory.txt -f /tmp/usp.db -i eth0 -l syslog"), None)
                .unwrap();
        assert!(o.protocol_trace);
        assert_eq!(o.verbosity, 4);
        assert_eq!(o.reset_file, Some(PathBuf::from("/etc/usp/factory.txt")));
        assert_eq!(o.db, PathBuf::from("/tmp/usp.db"));
        assert_eq!(o.interface.as_deref(), Some("eth0"));
        assert_eq!(o.log, LogTarget::Syslog);
    }

    #[test]
    fn defaults_match_obuspa() {
        let o = parse(args(""), None).unwrap();
        assert_eq!(o.db, PathBuf::from(DEFAULT_DB));
        assert_eq!(o.cli_socket, PathBuf::from(DEFAULT_CLI_SOCKET));
        assert_eq!(o.verbosity, 3);
        assert_eq!(o.log, LogTarget::Stderr);
    }

    #[test]
    fn dash_c_takes_the_rest_of_the_line() {
        let o = parse(args("-s /tmp/x -c set Device.X.Y -v"), None).unwrap();
        assert_eq!(o.command.unwrap(), vec!["set", "Device.X.Y", "-v"]);
        assert_eq!(o.cli_socket, PathBuf::from("/tmp/x"));
        assert!(parse(args("-c"), None).is_err());
    }

    #[test]
    fn the_environment_gives_the_endpoint_id_and_the_option_wins() {
        assert_eq!(
            parse(args(""), Some("proto::a".into())).unwrap().endpoint_id.unwrap(),
            "proto::a"
        );
        let o = parse(args("--endpoint-id proto::b"), Some("proto::a".into())).unwrap();
        assert_eq!(o.endpoint_id.unwrap(), "proto::b");
        assert_eq!(parse(args(""), Some(String::new())).unwrap().endpoint_id, None);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        assert!(parse(args("-v 9"), None).unwrap_err().to_string().contains("0 to 5"));
        assert!(parse(args("--oui 12345"), None).unwrap_err().to_string().contains("OUI"));
        assert!(parse(args("--bogus"), None).unwrap_err().to_string().contains("--bogus"));
        assert!(parse(args("stray"), None).unwrap_err().to_string().contains("stray"));
        assert!(parse(args("--server-cert a.pem"), None).is_err());
        assert!(parse(args("-r"), None).is_err());
        let e = parse(args("--platform windows"), None).unwrap_err().to_string();
        assert!(e.contains("lab, linux or openwrt"), "{e}");
    }

    #[test]
    fn the_platform_is_chosen_by_name_or_left_to_detection() {
        assert_eq!(parse(args(""), None).unwrap().platform, None);
        let o = parse(args("--platform lab"), None).unwrap();
        assert_eq!(o.platform, Some(usp_areas::Platform::Lab));
        let o = parse(args("--platform openwrt --uci-dir /tmp/c --ubus-socket /tmp/u.sock"), None)
            .unwrap();
        assert_eq!(o.uci_dir, Some(PathBuf::from("/tmp/c")));
        assert_eq!(o.ubus_socket, Some(PathBuf::from("/tmp/u.sock")));
        let o = parse(args("--platform linux --hostapd-dir /tmp/h --hostapd-conf /tmp/c"), None)
            .unwrap();
        assert_eq!(o.hostapd_dir, Some(PathBuf::from("/tmp/h")));
        assert_eq!(o.hostapd_conf, Some(PathBuf::from("/tmp/c")));
        let o = parse(args("--platform linux --wpa-supplicant-dir /tmp/w"), None).unwrap();
        assert_eq!(o.wpa_supplicant_dir, Some(PathBuf::from("/tmp/w")));
        let o = parse(args("--opkg-program /x/opkg-cl --opkg-root /r --opkg-conf /r.conf"), None)
            .unwrap();
        let want = |p: &str| Some(PathBuf::from(p));
        assert_eq!(o.opkg, (want("/x/opkg-cl"), want("/r"), want("/r.conf")));
        let o = parse(args("--dhcp-leases /tmp/l"), None).unwrap();
        assert_eq!(o.dhcp_leases, Some(PathBuf::from("/tmp/l")));
    }

    #[test]
    fn unsupported_obuspa_options_are_ignored() {
        let o = parse(args("-m 1 -x /usr/lib/plugin.so -v 2"), None).unwrap();
        assert_eq!(o.verbosity, 2);
    }

    #[test]
    fn long_options_and_oui_case() {
        let o = parse(
            args(
                "--oui abcdef --serial S1 --insecure --server-cert c.pem --server-key k.pem -h \
                 --require-client-cert",
            ),
            None,
        )
        .unwrap();
        assert!(o.require_client_cert);
        assert_eq!(o.oui.as_deref(), Some("ABCDEF"));
        assert_eq!(o.serial.as_deref(), Some("S1"));
        assert!(o.insecure && o.help);
        assert_eq!(o.server_cert, Some((PathBuf::from("c.pem"), PathBuf::from("k.pem"))));
    }
}

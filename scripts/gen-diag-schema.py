#!/usr/bin/env python3
"""Generates the TR-181 declarations of the diagnostics and health areas from the Broadband
Forum's machine-readable TR-181 (BroadbandForum/usp-data-models, Device:2.19):
areas/src/ip/tr181.rs (Device.IP.Interface and Device.IP.Diagnostics with its commands),
areas/src/ethernet/tr181.rs, areas/src/hosts/tr181.rs and areas/src/health/tr181.rs
(DeviceInfo.MemoryStatus, ProcessStatus, TemperatureStatus).

The full Device:2.19 model is expanded from tr-181-2-19-0-common.xml's model and refined by
tr-181-2-19-0-usp.xml's (which adds the USP commands); the component files it needs are
loaded beside them. The XML parsing (components, parameters, syntax facets) is
gen-wifi-schema.py's, imported. Names, types, access, enumerations, ranges, maximum lengths,
unique keys and command arguments come from the XML; only the choice of objects and
parameters (AREAS below) and of the mandatory input arguments (MANDATORY) is ours. A selected
name missing from the XML stops the script.

Usage: gen-diag-schema.py DIR_WITH_THE_XML_FILES AREAS_SRC_DIR
(DIR holds tr-181-2-19-0-{common,interface,ip,ethernet,hosts,deviceinfo,usp}.xml, e.g. from
git -C usp-data-models show HEAD:tr-181-2-19-0-ip.xml > DIR/tr-181-2-19-0-ip.xml)
"""
import importlib.util
import os
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("wifi", os.path.join(HERE, "gen-wifi-schema.py"))
wifi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wifi)

FILES = ["common", "interface", "ip", "ethernet", "hosts", "deviceinfo", "usp"]

# The counters Linux keeps (rtnl_link_stats64); the unicast/broadcast split and multicast sent
# are not counted by the kernel and are left out rather than guessed.
STATS = ["BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived", "ErrorsSent",
         "ErrorsReceived", "DiscardPacketsSent", "DiscardPacketsReceived",
         "MulticastPacketsReceived", "UnknownProtoPacketsReceived"]

# Per area (its folder under areas/src): the objects served and their parameters, in order.
AREAS = {
    "ip": [
        ("Device.IP.", ["IPv4Capable", "IPv6Capable"]),
        ("Device.IP.Interface.{i}.", [
            "Enable", "Status", "Name", "LowerLayers", "IPv6Enable", "MaxMTUSize", "Type",
            "Loopback"]),
        ("Device.IP.Interface.{i}.IPv4Address.{i}.", [
            "Enable", "Status", "IPAddress", "SubnetMask", "AddressingType"]),
        ("Device.IP.Interface.{i}.IPv6Address.{i}.", [
            "Enable", "Status", "IPAddressStatus", "IPAddress", "Origin", "PreferredLifetime",
            "ValidLifetime"]),
        ("Device.IP.Interface.{i}.Stats.", STATS),
        ("Device.IP.Diagnostics.", [
            "IPv4PingSupported", "IPv6PingSupported", "IPv4TraceRouteSupported",
            "IPv6TraceRouteSupported", "IPv4DownloadDiagnosticsSupported",
            "IPv6DownloadDiagnosticsSupported", "IPv4UploadDiagnosticsSupported",
            "IPv6UploadDiagnosticsSupported", "IPv4UDPEchoDiagnosticsSupported",
            "IPv6UDPEchoDiagnosticsSupported", "IPv4ServerSelectionDiagnosticsSupported",
            "IPv6ServerSelectionDiagnosticsSupported", "DownloadTransports",
            "DownloadDiagnosticMaxConnections", "UploadTransports",
            "UploadDiagnosticsMaxConnections", "UDPEchoDiagnosticsMaxResults"]),
    ],
    "ethernet": [
        ("Device.Ethernet.", []),
        ("Device.Ethernet.Interface.{i}.", [
            "Enable", "Status", "Name", "MACAddress", "CurrentBitRate", "CurrentDuplexMode"]),
        ("Device.Ethernet.Interface.{i}.Stats.", STATS + ["Collisions"]),
    ],
    "hosts": [
        ("Device.Hosts.", []),
        ("Device.Hosts.Host.{i}.", [
            "PhysAddress", "IPAddress", "AddressSource", "LeaseTimeRemaining", "Layer3Interface",
            "HostName", "Active"]),
        ("Device.Hosts.Host.{i}.IPv4Address.{i}.", ["IPAddress"]),
        ("Device.Hosts.Host.{i}.IPv6Address.{i}.", ["IPAddress"]),
    ],
    "health": [
        ("Device.DeviceInfo.MemoryStatus.", ["Total", "Free"]),
        ("Device.DeviceInfo.ProcessStatus.", ["CPUUsage"]),
        ("Device.DeviceInfo.ProcessStatus.Process.{i}.", [
            "PID", "Command", "Size", "Priority", "CPUTime", "State"]),
        ("Device.DeviceInfo.TemperatureStatus.", []),
        ("Device.DeviceInfo.TemperatureStatus.TemperatureSensor.{i}.", [
            "Enable", "Status", "Name", "Value"]),
    ],
}

# Commands served, per area: (object, command).
COMMANDS = {
    "ip": [("Device.IP.Diagnostics.", c) for c in [
        "IPPing()", "TraceRoute()", "DownloadDiagnostics()", "UploadDiagnostics()",
        "UDPEchoDiagnostics()", "ServerSelectionDiagnostics()"]],
}

# The input arguments a caller must give (7027 when missing); the others are optional and
# get the agent's defaults (the XML's `mandatory` is the CWMP object's, where every parameter
# of the old Diagnostics object had to be set).
MANDATORY = {"IPPing": ["Host"], "TraceRoute": ["Host"], "DownloadDiagnostics": ["DownloadURL"],
             "UploadDiagnostics": ["UploadURL", "TestFileLength"],
             "UDPEchoDiagnostics": ["Host", "Port"], "ServerSelectionDiagnostics": ["HostList"]}


def load(directory):
    roots = [ET.parse(f"{directory}/tr-181-2-19-0-{f}.xml").getroot() for f in FILES]
    model = wifi.Model(roots)
    model.expand(roots[0].find("model"), "", None)
    model.expand(roots[-1].find("model"), "", None)
    return model


def rust_arg(p, mandatory):
    if p.enum_ref is not None:
        sys.exit(f"{p.name}: enumerationRef in an argument is not handled")
    return "            " + wifi.rust_arg(p, mandatory) + ","


def args_of(model, elem, obj):
    """The arguments of an <input> or <output>: (relative name, Param), nested objects
    flattened as `RouteHops.{i}.Host`."""
    if elem is None:
        return []
    sub = wifi.Model([])
    sub.components = model.components
    sub.expand(elem, "", sub.obj(obj))
    out = []
    for path, d in sub.objects.items():
        pre = "" if path == obj else path
        out.extend((pre + p.name, p) for p in d["params"].values())
    return out


def commands(model, area):
    lines = ["/// The commands served: object, name, async, input and output arguments.",
             "pub(crate) static COMMANDS: &[C] = &["]
    for obj, name in COMMANDS.get(area, []):
        c = model.commands.get((obj, name))
        if c is None:
            sys.exit(f"{obj}{name} is not in the XML")
        short = name[:-2]
        lines.append(f'    C {{\n        obj: "{obj}",\n        name: "{short}",\n'
                     f'        is_async: {c.get("async", "false")},\n        inputs: &[')
        for n, p in args_of(model, c.find("input"), obj):
            p.name = n
            lines.append(rust_arg(p, n in MANDATORY.get(short, [])))
        lines.append("        ],\n        outputs: &[")
        statuses = None
        for n, p in args_of(model, c.find("output"), obj):
            lines.append(f'            ("{n}", ParamType::{p.ty}),')
            if n == "Status":
                statuses = p.enum
        lines.append("        ],")
        lines.append("        statuses: &[" + ", ".join(f'"{v}"' for v in statuses or []) + "],")
        lines.append("    },")
    lines.append("];")
    return "\n".join(lines)


def objects(model, area):
    out = ["pub(crate) static OBJECTS: &[O] = &["]
    for path, names in AREAS[area]:
        o = model.objects.get(path)
        if o is None:
            sys.exit(f"{path} is not in the XML")
        table = path.endswith(".{i}.")
        keys = [k for k in o["keys"] if all(n in names for n in k)]
        out.append(f'    O {{\n        path: "{path}",\n        table: {str(table).lower()},')
        out.append("        unique_keys: &[" + ", ".join(
            "&[" + ", ".join(f'"{n}"' for n in k) + "]" for k in keys) + "],")
        out.append("        params: &[")
        for n in names:
            if n not in o["params"]:
                sys.exit(f"{path}{n} is not in the XML")
            out.append(wifi.rust_param(model, path, o["params"][n]))
        out.append("        ],\n    },")
    out.append("];\n")
    return "\n".join(out)


HEADER = """//! Generated by `scripts/gen-diag-schema.py` from the Broadband Forum's TR-181 Device:2.19 XML
//! (BroadbandForum/usp-data-models: tr-181-2-19-0-common.xml, -usp.xml and the component
//! files they use). Do not edit: change the selection in the script and run it again.
#![allow(dead_code)]

use crate::tr181::{{{uses}}};
use usp_datamodel::value::ParamType;

/// The objects served, parents first, each with its parameters in declaration order."""


def main(directory, src):
    model = load(directory)
    for area in AREAS:
        has_cmds = area in COMMANDS
        uses = "A, C, O, P" if has_cmds else "O, P"
        text = HEADER.format(uses=uses) + "\n" + objects(model, area)
        if has_cmds:
            text += "\n" + commands(model, area) + "\n"
        with open(os.path.join(src, area, "tr181.rs"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Generates areas/src/wifi/tr181.rs, the Device.WiFi. declarations the agent serves, from the
Broadband Forum's machine-readable TR-181 (BroadbandForum/usp-data-models, Device:2.19):
tr-181-2-19-0-wifi-base.xml, tr-181-2-19-0-wifi-usp.xml and tr-181-2-19-0-interface.xml.

Names, types, access, list-ness, enumerations, ranges, maximum lengths, secured (hidden) flags
and unique keys come from the XML; only the choice of objects and parameters (SELECT below) is
ours. A selected name missing from the XML stops the script.

Usage: gen-wifi-schema.py DIR_WITH_THE_XML_FILES > areas/src/wifi/tr181.rs
(e.g. git -C usp-data-models show HEAD:tr-181-2-19-0-wifi-base.xml > DIR/...)
"""
import sys
import xml.etree.ElementTree as ET

DM = "{urn:broadband-forum-org:cwmp:datamodel-1-10}"

# The objects served and, per object, the parameters served, in the order they are declared.
SELECT = [
    ("Device.WiFi.", ["ResetCounter"]),
    ("Device.WiFi.Radio.{i}.", [
        "Enable", "Status", "Name", "LastChange", "LowerLayers", "Upstream", "MaxBitRate",
        "SupportedFrequencyBands", "OperatingFrequencyBand", "SupportedStandards",
        "OperatingStandards", "PossibleChannels", "ChannelsInUse", "Channel",
        "AutoChannelSupported", "AutoChannelEnable", "AutoChannelRefreshPeriod",
        "MaxSupportedSSIDs", "MaxSupportedAssociations",
        "SupportedOperatingChannelBandwidths", "OperatingChannelBandwidth",
        "CurrentOperatingChannelBandwidth", "ExtensionChannel", "GuardInterval", "MCS",
        "TransmitPowerSupported", "TransmitPower", "IEEE80211hSupported", "IEEE80211hEnabled",
        "RegulatoryDomain", "BeaconPeriod", "DTIMPeriod"]),
    ("Device.WiFi.Radio.{i}.Stats.", [
        "BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived", "ErrorsSent",
        "ErrorsReceived", "DiscardPacketsSent", "DiscardPacketsReceived", "PLCPErrorCount",
        "FCSErrorCount", "InvalidMACCount", "PacketsOtherReceived", "Noise"]),
    ("Device.WiFi.SSID.{i}.", [
        "Enable", "Status", "Name", "LastChange", "LowerLayers", "BSSID", "MACAddress", "SSID",
        "Upstream"]),
    ("Device.WiFi.SSID.{i}.Stats.", [
        "BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived", "ErrorsSent",
        "ErrorsReceived", "UnicastPacketsSent", "UnicastPacketsReceived", "DiscardPacketsSent",
        "DiscardPacketsReceived", "MulticastPacketsSent", "MulticastPacketsReceived",
        "BroadcastPacketsSent", "BroadcastPacketsReceived", "UnknownProtoPacketsReceived"]),
    ("Device.WiFi.AccessPoint.{i}.", [
        "Enable", "Status", "SSIDReference", "SSIDAdvertisementEnabled", "WMMCapability",
        "UAPSDCapability", "WMMEnable", "UAPSDEnable", "MaxAssociatedDevices",
        "IsolationEnable", "MACAddressControlEnabled", "AllowedMACAddress"]),
    ("Device.WiFi.AccessPoint.{i}.Security.", [
        "ModesSupported", "ModeEnabled", "PreSharedKey", "KeyPassphrase", "SAEPassphrase",
        "RekeyingInterval", "MFPConfig"]),
    ("Device.WiFi.AccessPoint.{i}.WPS.", [
        "Enable", "ConfigMethodsSupported", "ConfigMethodsEnabled", "Status", "Version"]),
    ("Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.", [
        "MACAddress", "OperatingStandard", "AuthenticationState", "LastDataDownlinkRate",
        "LastDataUplinkRate", "AssociationTime", "SignalStrength", "Noise", "SNR",
        "Retransmissions", "Active"]),
    ("Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.Stats.", [
        "BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived", "ErrorsSent",
        "RetransCount"]),
    ("Device.WiFi.EndPoint.{i}.", ["Enable", "Status", "ProfileReference", "SSIDReference"]),
    ("Device.WiFi.EndPoint.{i}.Stats.", [
        "LastDataDownlinkRate", "LastDataUplinkRate", "SignalStrength", "Retransmissions"]),
    ("Device.WiFi.EndPoint.{i}.Security.", ["ModesSupported"]),
    ("Device.WiFi.EndPoint.{i}.Profile.{i}.", ["Enable", "Status", "SSID", "Location", "Priority"]),
    ("Device.WiFi.EndPoint.{i}.Profile.{i}.Security.", [
        "ModeEnabled", "PreSharedKey", "KeyPassphrase", "SAEPassphrase", "MFPConfig"]),
]

# Commands served: (object, command).
COMMANDS = [("Device.WiFi.", "NeighboringWiFiDiagnostic()"), ("Device.WiFi.", "Reset()"),
            ("Device.WiFi.AccessPoint.{i}.Security.", "Reset()"),
            ("Device.WiFi.AccessPoint.{i}.WPS.", "InitiateWPSPBC()")]

TYPES = {
    "string": "String", "boolean": "Boolean", "int": "Int", "unsignedInt": "UnsignedInt",
    "long": "Long", "unsignedLong": "UnsignedLong", "dateTime": "DateTime",
    "decimal": "Decimal",
}
DATA_TYPES = {
    "StatsCounter64": ("UnsignedLong", None), "StatsCounter32": ("UnsignedInt", None),
    "MACAddress": ("String", 17), "IPAddress": ("String", 45),
}


class Param:
    def __init__(self, name, elem):
        self.name = name
        self.access = elem.get("access", "readOnly")
        self.ty, self.list, self.enum, self.range, self.max_len = "String", False, None, None, None
        self.secured, self.reference, self.enum_ref = False, False, None
        syntax = elem.find("syntax")
        if syntax is not None:
            self.read_syntax(syntax)

    def read_syntax(self, syntax):
        self.secured = syntax.get("secured") == "true" or syntax.get("hidden") == "true"
        for child in syntax:
            tag = child.tag
            if tag == "list":
                self.list = True
            elif tag == "dataType":
                self.ty, self.max_len = DATA_TYPES.get(child.get("ref"), ("String", None))
            elif tag in TYPES:
                self.ty = TYPES[tag]
                self.read_facets(child)

    def read_facets(self, base):
        enums = [e.get("value") for e in base.findall("enumeration")]
        if enums:
            self.enum = enums
        r = base.find("range")
        if r is not None and (r.get("minInclusive") or r.get("maxInclusive")):
            self.range = (r.get("minInclusive"), r.get("maxInclusive"))
        s = base.find("size")
        if s is not None and s.get("maxLength"):
            self.max_len = int(s.get("maxLength"))
        if base.find("pathRef") is not None:
            self.reference = True
        e = base.find("enumerationRef")
        if e is not None:
            self.enum_ref = e.get("targetParam")


class Model:
    def __init__(self, roots):
        self.components = {}
        for root in roots:
            for c in root.findall("component"):
                if c.get("name"):
                    self.components[c.get("name")] = c
        self.objects = {}
        self.commands = {}

    def obj(self, path, elem=None):
        o = self.objects.setdefault(path, {"params": {}, "keys": [], "access": "readOnly"})
        if elem is not None and elem.get("access"):
            o["access"] = elem.get("access")
        if elem is not None:
            for k in elem.findall("uniqueKey"):
                o["keys"].append([p.get("ref") for p in k.findall("parameter")])
        return o

    def expand(self, elem, prefix, current):
        for child in elem:
            if child.tag == "component" and child.get("ref"):
                comp = self.components.get(child.get("ref"))
                if comp is not None:
                    self.expand(comp, prefix, current)
            elif child.tag == "object":
                name = child.get("name") or child.get("base")
                path = name if name.startswith("Device.") else prefix + name
                o = self.obj(path, child)
                self.expand(child, path, o)
            elif child.tag == "parameter" and child.get("name") and current is not None:
                current["params"][child.get("name")] = Param(child.get("name"), child)
            elif child.tag == "command" and current is not None:
                self.commands[(prefix, child.get("name"))] = child


def enum_of(model, obj_path, p):
    if p.enum is not None or p.enum_ref is None:
        return p.enum
    target = model.objects[obj_path]["params"].get(p.enum_ref)
    return target.enum if target is not None else None


def rust_param(model, obj_path, p):
    fields = [f'name: "{p.name}"', f"ty: ParamType::{p.ty}",
              f"rw: {'true' if p.access == 'readWrite' else 'false'}",
              f"list: {'true' if p.list else 'false'}",
              f"hidden: {'true' if p.secured else 'false'}",
              f"reference: {'true' if p.reference else 'false'}"]
    enum = enum_of(model, obj_path, p)
    fields.append("enumeration: " + ("Some(&[" + ", ".join(f'"{v}"' for v in enum) + "])"
                                     if enum else "None"))
    rng = "None"
    if p.range is not None:
        lo = p.range[0] if p.range[0] is not None else "i128::MIN"
        hi = p.range[1] if p.range[1] is not None else "i128::MAX"
        rng = f"Some(&({lo}, {hi}))"
    fields.append(f"range: {rng}")
    fields.append(f"max_len: {'Some(%d)' % p.max_len if p.max_len else 'None'}")
    # The areas generated by this parser serve live values: the XML's defaults (for stored
    # values) are not theirs.
    fields.append("default: None")
    return "        P { " + ", ".join(fields) + " },"


def rust_arg(p, mandatory):
    """An input argument (areas/src/tr181.rs `A`); `mandatory` is the area's choice."""
    enum = "None" if not p.enum else "Some(&[" + ", ".join(f'"{v}"' for v in p.enum) + "])"
    rng = "None"
    if p.range is not None:
        lo = p.range[0] if p.range[0] is not None else "i128::MIN"
        hi = p.range[1] if p.range[1] is not None else "i128::MAX"
        rng = f"Some(&({lo}, {hi}))"
    ml = f"Some({p.max_len})" if p.max_len else "None"
    return (f'A {{ name: "{p.name}", ty: ParamType::{p.ty}, '
            f"mandatory: {'true' if mandatory else 'false'}, "
            f"list: {'true' if p.list else 'false'}, enumeration: {enum}, range: {rng}, "
            f"max_len: {ml} }}")


def main(directory):
    files = ["tr-181-2-19-0-wifi-base.xml", "tr-181-2-19-0-wifi-usp.xml",
             "tr-181-2-19-0-interface.xml"]
    roots = [ET.parse(f"{directory}/{f}").getroot() for f in files]
    model = Model(roots)
    model.expand(model.components["WiFiRoot"], "", None)
    model.expand(model.components["WiFiBase"], "", None)
    for c in roots[1].iter("object"):
        if c.get("base") in ("Device.WiFi.", "Device.WiFi.AccessPoint.{i}.Security.",
                             "Device.WiFi.AccessPoint.{i}.WPS."):
            model.expand(c, c.get("base"), model.obj(c.get("base")))
    out = [HEADER, "pub(super) static OBJECTS: &[O] = &["]
    for path, names in SELECT:
        o = model.objects[path]
        table = path.endswith(".{i}.")
        keys = [k for k in o["keys"] if all(n in names for n in k)]
        out.append(f'    O {{\n        path: "{path}",\n        table: {str(table).lower()},')
        out.append("        unique_keys: &[" + ", ".join(
            "&[" + ", ".join(f'"{n}"' for n in k) + "]" for k in keys) + "],")
        out.append("        params: &[")
        for n in names:
            if n not in o["params"]:
                sys.exit(f"{path}{n} is not in the XML")
            out.append(rust_param(model, path, o["params"][n]))
        out.append("        ],\n    },")
    out.append("];\n")
    out.append(commands(model))
    print("\n".join(out))


def commands(model):
    lines = ["/// The commands served: object path, name, async, output arguments.",
             "pub(super) static COMMANDS: &[C] = &["]
    for obj, name in COMMANDS:
        c = model.commands.get((obj, name))
        if c is None:
            sys.exit(f"{obj}{name} is not in the XML")
        if c.find("input") is not None:
            sys.exit(f"{obj}{name}: input arguments are not handled")
        outs, statuses = [], []
        o = c.find("output")
        if o is not None:
            sub = Model([])
            sub.components = model.components
            root = sub.obj(obj)
            sub.expand(o, "", root)
            for path, d in sub.objects.items():
                pre = "" if path == obj else path
                for p in d["params"].values():
                    outs.append(f'("{pre}{p.name}", ParamType::{p.ty})')
                    if pre + p.name == "Status":
                        statuses = p.enum or []
        lines.append(f'    C {{ obj: "{obj}", name: "{name[:-2]}", is_async: '
                     f'{c.get("async", "false")}, inputs: &[], outputs: &[{", ".join(outs)}], '
                     "statuses: &[" + ", ".join(f'"{v}"' for v in statuses) + "] },")
    lines.append("];")
    return "\n".join(lines)


HEADER = """//! Generated by `scripts/gen-wifi-schema.py` from the Broadband Forum's TR-181 Device:2.19 XML
//! (BroadbandForum/usp-data-models: tr-181-2-19-0-wifi-base.xml, -wifi-usp.xml, -interface.xml).
//! Do not edit: change the selection in the script and run it again.

use crate::tr181::{C, O, P};
use usp_datamodel::value::ParamType;

/// The objects served, parents first, each with its parameters in declaration order."""

if __name__ == "__main__":
    main(sys.argv[1])

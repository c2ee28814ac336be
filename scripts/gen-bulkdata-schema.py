#!/usr/bin/env python3
"""Generates areas/src/bulkdata/tr181.rs, the Device.BulkData. declarations the agent serves,
from the Broadband Forum's machine-readable TR-181 (BroadbandForum/usp-data-models): Device:2.19
imports the BulkData component of tr-181-2-18-0-bulkdata.xml and adds the USP parts in
tr-181-2-19-0-usp.xml (Profile.{i}.Controller, Push!, ForceCollection(), the USPEventNotif
protocol).

Names, types, access, list-ness, enumerations (deleted values left out), ranges, maximum
lengths, defaults, secured (hidden) flags and unique keys come from the XML; only the choice of
objects and parameters (SELECT below) is ours. A selected name missing from the XML stops the
script. Defaults holding control characters (RowSeparator's CR LF) are written as the XML
character references a controller would set ("&#13;&#10;"), which the encoder decodes.

Usage: gen-bulkdata-schema.py DIR_WITH_THE_XML_FILES > areas/src/bulkdata/tr181.rs && cargo fmt
(e.g. git -C usp-data-models show HEAD:tr-181-2-18-0-bulkdata.xml > DIR/...)
"""
import sys
import xml.etree.ElementTree as ET

SELECT = [
    ("Device.BulkData.", [
        "Enable", "Status", "MinReportingInterval", "Protocols", "EncodingTypes",
        "ParameterWildCardSupported", "MaxNumberOfProfiles", "MaxNumberOfParameterReferences"]),
    ("Device.BulkData.Profile.{i}.", [
        "Enable", "Alias", "Name", "NumberOfRetainedFailedReports", "Protocol", "EncodingType",
        "ReportingInterval", "TimeReference", "Controller"]),
    ("Device.BulkData.Profile.{i}.Parameter.{i}.", ["Name", "Reference", "Exclude"]),
    ("Device.BulkData.Profile.{i}.CSVEncoding.", [
        "FieldSeparator", "RowSeparator", "EscapeCharacter", "ReportFormat", "RowTimestamp"]),
    ("Device.BulkData.Profile.{i}.JSONEncoding.", ["ReportFormat", "ReportTimestamp"]),
    ("Device.BulkData.Profile.{i}.HTTP.", [
        "URL", "Username", "Password", "CompressionsSupported", "Compression",
        "MethodsSupported", "Method", "UseDateHeader", "RetryEnable",
        "RetryMinimumWaitInterval", "RetryIntervalMultiplier", "PersistAcrossReboot"]),
    ("Device.BulkData.Profile.{i}.HTTP.RequestURIParameter.{i}.", ["Name", "Reference"]),
    ("Device.BulkData.Profile.{i}.MQTT.", [
        "Reference", "PublishTopic", "PublishQoS", "PublishRetain"]),
]
EVENT = ("Device.BulkData.Profile.{i}.", "Push!")
COMMAND = ("Device.BulkData.Profile.{i}.", "ForceCollection()")

# Where the XML is wrong: tr-181-2-18-0-bulkdata.xml has lost RowSeparator's default (it reads
# " "); the description, obuspa and TR-369's CSV examples have CR LF ("&#13;&#10;").
DEFAULT_OVERRIDES = {("Device.BulkData.Profile.{i}.CSVEncoding.", "RowSeparator"): "&#13;&#10;"}

TYPES = {"string": "String", "boolean": "Boolean", "int": "Int", "unsignedInt": "UnsignedInt",
         "long": "Long", "unsignedLong": "UnsignedLong", "dateTime": "DateTime"}


class Param:
    def __init__(self, name, elem):
        self.name = name
        self.access = elem.get("access", "readOnly")
        self.ty, self.list, self.enum, self.range, self.max_len = "String", False, None, None, None
        self.secured, self.reference, self.default, self.enum_ref = False, False, None, None
        self.null_value = None
        self.read(elem)

    def read(self, elem):
        syntax = elem.find("syntax")
        if syntax is None:
            return
        self.secured = self.secured or syntax.get("secured") == "true" \
            or syntax.get("hidden") == "true"
        for child in syntax:
            if child.tag == "list":
                self.list = True
            elif child.tag == "default":
                self.default = child.get("value")
            elif child.tag == "dataType":
                self.ty = "String"
            elif child.tag in TYPES:
                self.ty = TYPES[child.tag]
                self.facets(child)

    def facets(self, base):
        enums = [e.get("value") for e in base.findall("enumeration")
                 if e.get("status") != "deleted"]
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
            self.null_value = e.get("nullValue")


def collect(objects, elem):
    for obj in elem.iter("object"):
        path = obj.get("name") or obj.get("base")
        if not path or not path.startswith("Device.BulkData."):
            continue
        o = objects.setdefault(path, {"params": {}, "keys": [], "events": {}, "commands": {}})
        for k in obj.findall("uniqueKey"):
            o["keys"].append([p.get("ref") for p in k.findall("parameter")])
        for child in obj:
            name = child.get("name") or child.get("base")
            if child.tag == "parameter" and child.get("status") != "deleted":
                if name in o["params"] and child.get("base"):
                    o["params"][name].read(child)
                else:
                    o["params"][name] = Param(name, child)
            elif child.tag == "component" and child.get("ref") == "Alias":
                o["params"]["Alias"] = alias()
            elif child.tag == "event":
                o["events"][name] = child
            elif child.tag == "command":
                o["commands"][name] = child


def alias():
    e = ET.fromstring('<parameter name="Alias" access="readWrite"><syntax><string>'
                      '<size maxLength="64"/></string></syntax></parameter>')
    return Param("Alias", e)


def rust_str(s):
    s = s.replace("\r", "&#13;").replace("\n", "&#10;")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rust_param(objects, path, p):
    enum = p.enum
    if enum is None and p.enum_ref:
        enum = referenced_enum(objects, path, p)
    default = DEFAULT_OVERRIDES.get((path, p.name), p.default)
    rng = "None"
    if p.range is not None:
        lo = p.range[0] if p.range[0] is not None else "i128::MIN"
        hi = p.range[1] if p.range[1] is not None else "i128::MAX"
        rng = f"Some(&({lo}, {hi}))"
    fields = [f'name: "{p.name}"', f"ty: ParamType::{p.ty}",
              f"rw: {str(p.access == 'readWrite').lower()}", f"list: {str(p.list).lower()}",
              f"hidden: {str(p.secured).lower()}", f"reference: {str(p.reference).lower()}",
              "enumeration: " + ("Some(&[" + ", ".join(f'"{v}"' for v in enum) + "])"
                                 if enum else "None"),
              f"range: {rng}", f"max_len: {'Some(%d)' % p.max_len if p.max_len else 'None'}",
              "default: " + (f"Some({rust_str(default)})" if default is not None else "None")]
    return "            P { " + ", ".join(fields) + " },"


def referenced_enum(objects, path, p):
    """The enumeration of the parameter an enumerationRef names ("#.Protocols": one object
    up), with its nullValue first."""
    ups = len(p.enum_ref) - len(p.enum_ref.lstrip("#"))
    name = p.enum_ref.lstrip("#.")
    parts = path.rstrip(".").split(".")
    for _ in range(ups):
        if parts[-1] == "{i}":
            parts.pop()
        parts.pop()
    target = objects[".".join(parts) + "."]["params"].get(name)
    if target is None or target.enum is None:
        sys.exit(f"{path}{p.name}: {p.enum_ref} has no enumeration")
    return ([p.null_value] if p.null_value else []) + target.enum


def main(directory):
    objects = {}
    for f in ["tr-181-2-18-0-bulkdata.xml", "tr-181-2-19-0-usp.xml"]:
        collect(objects, ET.parse(f"{directory}/{f}").getroot())
    out = [HEADER, "pub(super) static OBJECTS: &[O] = &["]
    for path, names in SELECT:
        o = objects[path]
        keys = [k for k in o["keys"] if all(n in names for n in k)]
        out.append(f'    O {{\n        path: "{path}",\n        table: '
                   f'{str(path.endswith(".{i}.")).lower()},')
        out.append("        unique_keys: &[" + ", ".join(
            "&[" + ", ".join(f'"{n}"' for n in k) + "]" for k in keys) + "],")
        out.append("        params: &[")
        for n in names:
            if n not in o["params"]:
                sys.exit(f"{path}{n} is not in the XML")
            out.append(rust_param(objects, path, o["params"][n]))
        out.append("        ],\n    },")
    out.append("];\n")
    ev = objects[EVENT[0]]["events"].get(EVENT[1])
    cmd = objects[COMMAND[0]]["commands"].get(COMMAND[1])
    if ev is None or cmd is None:
        sys.exit("Push! or ForceCollection() is not in the XML")
    args = [p.get("name") for p in ev.iter("parameter")]
    out.append("/// The event of a profile and its arguments (`Push!`).")
    out.append(f'pub(super) const PUSH_EVENT: (&str, &[&str]) = ("{EVENT[1][:-1]}", &['
               + ", ".join(f'"{a}"' for a in args) + "]);")
    out.append("/// The command of a profile, and whether it is asynchronous.")
    out.append(f'pub(super) const FORCE_COLLECTION: (&str, bool) = ("{COMMAND[1][:-2]}", '
               f'{cmd.get("async", "false")});')
    print("\n".join(out))


HEADER = """//! Generated by `scripts/gen-bulkdata-schema.py` from the Broadband Forum's TR-181 Device:2.19
//! XML (BroadbandForum/usp-data-models: tr-181-2-18-0-bulkdata.xml, tr-181-2-19-0-usp.xml).
//! Do not edit: change the selection in the script and run it again.

use crate::tr181::{O, P};
use usp_datamodel::value::ParamType;

/// The objects served, parents first, each with its parameters in declaration order."""

if __name__ == "__main__":
    main(sys.argv[1])

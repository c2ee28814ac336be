#!/usr/bin/env python3
"""Generates areas/src/software/tr181.rs, the Device.SoftwareModules. declarations the agent
serves, from the Broadband Forum's machine-readable TR-181 (BroadbandForum/usp-data-models,
Device:2.19): tr-181-2-19-0-softwaremodules.xml and tr-181-2-19-0-softwaremodules-usp.xml.

Names, types, access, list-ness, enumerations, ranges, maximum lengths and unique keys of the
parameters, the commands' input and output arguments and the DUStateChange! event's arguments
come from the XML; only the selection (SELECT, COMMANDS, EVENT below) is ours. A selected name
missing from the XML stops the script. The XML parsing is gen-wifi-schema.py's.

Usage: gen-software-schema.py DIR_WITH_THE_XML_FILES > areas/src/software/tr181.rs
"""
import importlib.util
import os
import sys
import xml.etree.ElementTree as ET

_spec = importlib.util.spec_from_file_location(
    "wifigen", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-wifi-schema.py"))
wifigen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wifigen)
Model, Param, rust_param = wifigen.Model, wifigen.Param, wifigen.rust_param

SM = "Device.SoftwareModules."
SELECT = [
    (SM, []),
    (SM + "ExecEnv.{i}.", [
        "Enable", "Status", "Name", "Type", "CurrentRunLevel", "Vendor",
        "Version", "AllocatedDiskSpace", "AvailableDiskSpace", "AllocatedMemory",
        "AvailableMemory", "ActiveExecutionUnits", "ProcessorRefList"]),
    (SM + "DeploymentUnit.{i}.", [
        "UUID", "DUID", "Name", "Status", "Resolved", "URL", "Description", "Vendor", "Version",
        "VendorLogList", "VendorConfigList", "ExecutionUnitList", "ExecutionEnvRef", "Installed"]),
    (SM + "ExecutionUnit.{i}.", [
        "EUID", "Name", "ExecEnvLabel", "Status", "ExecutionFaultCode", "ExecutionFaultMessage",
        "AutoStart", "RunLevel", "Vendor", "Version", "Description", "DiskSpaceInUse",
        "MemoryInUse", "CPUPercentInUse", "References", "AssociatedProcessList",
        "VendorLogList", "VendorConfigList", "ExecutionEnvRef"]),
]

# (object, command, the input arguments served).
COMMANDS = [
    (SM, "InstallDU()", ["URL", "UUID", "Username", "Password", "ExecutionEnvRef"]),
    (SM + "DeploymentUnit.{i}.", "Update()", ["URL", "Username", "Password"]),
    (SM + "DeploymentUnit.{i}.", "Uninstall()", []),
    (SM + "ExecutionUnit.{i}.", "SetRequestedState()", ["RequestedState"]),
    (SM + "ExecutionUnit.{i}.", "Restart()", []),
    (SM + "ExecEnv.{i}.", "SetRunLevel()", ["RequestedRunLevel"]),
    (SM + "ExecEnv.{i}.", "Reset()", []),
]

EVENT = (SM, "DUStateChange!")


def args_of(model, elem):
    """The arguments under an <input>, <output> or <event>: (name, Param, mandatory)."""
    out = []
    sub = Model([])
    sub.components = model.components
    root = sub.obj("")
    sub.expand(elem, "", root)
    for path, d in sub.objects.items():
        for p in d["params"].values():
            out.append((path + p.name, p))
    mandatory = {p.get("name") for p in elem.iter("parameter") if p.get("mandatory") == "true"}
    return [(n, p, n in mandatory) for n, p in out]


def rust_arg(name, p, mandatory):
    p.name = name
    return wifigen.rust_arg(p, mandatory)


def main(directory):
    files = ["tr-181-2-19-0-softwaremodules.xml", "tr-181-2-19-0-softwaremodules-usp.xml"]
    roots = [ET.parse(f"{directory}/{f}").getroot() for f in files]
    model = Model(roots)
    model.expand(model.components["SoftwareModules"], "", None)
    events = {}
    for c in roots[1].iter("object"):
        base = c.get("base") or ""
        if base.startswith(SM):
            model.expand(c, base, model.obj(base, c))
            for e in c.findall("event"):
                events[(base, e.get("name"))] = e
    out = [HEADER, "pub(super) static OBJECTS: &[O] = &["]
    for path, names in SELECT:
        o = model.objects[path]
        keys = [k for k in o["keys"] if all(n in names for n in k)]
        out.append(f'    O {{\n        path: "{path}",\n        table: '
                   f'{str(path.endswith(".{i}.")).lower()},')
        out.append("        unique_keys: &[" + ", ".join(
            "&[" + ", ".join(f'"{n}"' for n in k) + "]" for k in keys) + "],")
        out.append("        params: &[")
        for n in names:
            if n not in o["params"]:
                sys.exit(f"{path}{n} is not in the XML")
            out.append(rust_param(model, path, o["params"][n]))
        out.append("        ],\n    },")
    out.append("];\n")
    out.append("/// The commands served: object, name, async, inputs, outputs.")
    out.append("pub(super) static COMMANDS: &[C] = &[")
    for obj, name, wanted in COMMANDS:
        c = model.commands.get((obj, name))
        if c is None:
            sys.exit(f"{obj}{name} is not in the XML")
        ins = {n: (p, m) for n, p, m in (args_of(model, c.find("input"))
                                         if c.find("input") is not None else [])}
        for n in wanted:
            if n not in ins:
                sys.exit(f"{obj}{name} has no input {n}")
        outs = args_of(model, c.find("output")) if c.find("output") is not None else []
        out.append(f'    C {{\n        obj: "{obj}",\n        name: "{name[:-2]}",\n'
                   f'        is_async: {c.get("async", "false")},')
        out.append("        inputs: &[" + ", ".join(rust_arg(n, *ins[n]) for n in wanted) + "],")
        out.append("        outputs: &[" + ", ".join(f'("{n}", ParamType::{p.ty})'
                                             for n, p, _ in outs) + "],")
        statuses = next((p.enum or [] for n, p, _ in outs if n == "Status"), [])
        out.append("        statuses: &[" + ", ".join(f'"{v}"' for v in statuses) + "],\n    },")
    out.append("];\n")
    e = events.get(EVENT)
    if e is None:
        sys.exit(f"{EVENT} is not in the XML")
    out.append("/// The arguments of `Device.SoftwareModules.DUStateChange!`.")
    out.append("pub(super) static DU_STATE_CHANGE: &[(&str, ParamType)] = &[")
    for n, p, _ in args_of(model, e):
        out.append(f'    ("{n}", ParamType::{p.ty}),')
    out.append("];")
    print("\n".join(out))


HEADER = """//! Generated by `scripts/gen-software-schema.py` from the Broadband Forum's TR-181 Device:2.19
//! XML (BroadbandForum/usp-data-models: tr-181-2-19-0-softwaremodules.xml and
//! -softwaremodules-usp.xml). Do not edit: change the selection in the script and run it again.

use crate::tr181::{A, C, O, P};
use usp_datamodel::value::ParamType;

/// The objects served, parents first, each with its parameters in declaration order."""

if __name__ == "__main__":
    main(sys.argv[1])

-- A stand-in for netifd's `network.interface` ubus object (its `dump` method) for the
-- Device.IP tests: three logical interfaces in the shape of netifd's ubus.c
-- (netifd_dump_status): `loopback` and `lan` up on the kernel's `lo`, `wan` down.
-- Usage: lua5.1 netifd-mock.lua PREFIX SOCKET
local prefix, socket = arg[1], arg[2]
package.cpath = prefix .. "/lib/lua/?.so;" .. package.cpath
require "ubus"
require "uloop"
uloop.init()
local conn = assert(ubus.connect(socket), "cannot connect to " .. socket)

local function dump(req)
  conn:reply(req, { interface = {
    { interface = "loopback", up = true, l3_device = "lo", proto = "static", device = "lo",
      ["ipv4-address"] = { { address = "127.0.0.1", mask = 8 } }, ["ipv6-address"] = {} },
    { interface = "lan", up = true, l3_device = "lo", proto = "static",
      ["ipv4-address"] = { { address = "192.168.1.1", mask = 24 } },
      ["ipv6-address"] = { { address = "fd00::1", mask = 60, preferred = 3600, valid = 7200 } } },
    { interface = "wan", up = false, proto = "dhcp", ["ipv4-address"] = {}, ["ipv6-address"] = {} },
  } })
end

conn:add({ ["network.interface"] = { dump = { dump, {} } } })
io.stdout:write("ready\n")
io.stdout:flush()
uloop.run()

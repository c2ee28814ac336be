-- A stand-in for the ubus objects an OpenWrt router's daemons register, for the Wi-Fi tests:
-- netifd's `network` (reload, counted), `network.device` and `network.wireless`, rpcd's `iwinfo`
-- and hostapd's `hostapd.<ifname>`, procd's `system` (board, validate_firmware_image) and
-- `service` (list), plus `test` (join/leave a station, read the reload count, change the running
-- release, register a service's pid as procd would).
-- Reply shapes follow openwrt/rpcd iwinfo.c, OpenWrt's hostapd src/ap/ubus.c, netifd's
-- wireless status, procd's system.c (validate_firmware_image relays the JSON of
-- /usr/libexec/validate_firmware_image: tests, valid, forceable, allow_backup; here an image is
-- valid when its fwtool metadata names this board among its supported devices) and procd's
-- service/service.c service_dump() with service/instance.c instance_dump().
-- Usage: lua5.1 ubus-mock.lua PREFIX SOCKET SPEC.lua
local prefix, socket, specfile = arg[1], arg[2], arg[3]
package.cpath = prefix .. "/lib/lua/?.so;" .. package.cpath
require "ubus"
require "uloop"
uloop.init()
local spec = dofile(specfile)
local conn = assert(ubus.connect(socket), "cannot connect to " .. socket)
local reloads = 0
local wps_starts = 0
local hostapd = {}
local release = { distribution = "OpenWrt", version = "23.05.3", revision = "r23809-234f1a2efa",
                  target = "test/generic", description = "OpenWrt 23.05.3 r23809-234f1a2efa" }
local board_name = "test,router"

local function validate(req, msg)
  local f = io.open(msg.path or "", "rb")
  if not f then return 9 end -- UBUS_STATUS_UNKNOWN_ERROR, as procd when its script fails
  local data = f:read("*a")
  f:close()
  local has_meta = string.find(data, '"supported_devices"', 1, true) ~= nil
  local match = has_meta and string.find(data, '"' .. board_name .. '"', 1, true) ~= nil
  conn:reply(req, { tests = { fwtool_signature = true, fwtool_device_match = match },
                    valid = match, forceable = true, allow_backup = true })
end

local function mhz(band, ch)
  if band == "2g" then return 2407 + 5 * ch elseif band == "5g" then return 5000 + 5 * ch end
  return 5950 + 5 * ch
end

local function channels(band)
  local out = {}
  if band == "2g" then for c = 1, 13 do out[#out + 1] = c end
  elseif band == "5g" then
    for _, c in ipairs({36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 149, 153, 157, 161, 165}) do out[#out + 1] = c end
  else for c = 1, 233, 4 do out[#out + 1] = c end end
  return out
end

local function radio_of(ifname)
  for _, i in ipairs(spec.ifaces) do
    if i.ifname == ifname then
      for _, r in ipairs(spec.radios) do if r.name == i.radio then return r, i end end
    end
  end
end

local function wireless_status(req)
  local out = {}
  for _, r in ipairs(spec.radios) do
    local ifs = {}
    for _, i in ipairs(spec.ifaces) do
      if i.radio == r.name then
        ifs[#ifs + 1] = { section = i.section, ifname = i.ifname, config = { mode = i.mode, ssid = i.ssid }, vlans = {}, stations = {} }
      end
    end
    out[r.name] = { up = true, pending = false, autostart = true, disabled = false, retry_setup_failed = false,
                    config = { band = r.band, channel = tostring(r.channel) }, interfaces = ifs }
  end
  conn:reply(req, out)
end

local function info(req, msg)
  local r, i = radio_of(msg.device)
  if not r then return ubus.STATUS_NOT_FOUND end
  local hw = { ["2g"] = { "b", "g", "n", "ax" }, ["5g"] = { "a", "n", "ac", "ax" }, ["6g"] = { "ax" } }
  conn:reply(req, { phy = "phy" .. string.sub(r.name, -1), ssid = i.ssid, bssid = i.mac, country = "DE",
    mode = (i.mode == "sta") and "Client" or "Master", channel = r.channel, frequency = mhz(r.band, r.channel), txpower = 20, quality = 70,
    quality_max = 70, signal = -40, noise = -91, bitrate = 573500,
    encryption = { enabled = true, wpa = { 2 }, authentication = { "psk" }, ciphers = { "ccmp" } },
    htmodes = { "HT20", "HT40", "VHT20", "VHT40", "VHT80", "HE20", "HE40", "HE80" }, hwmodes = hw[r.band],
    hwmodes_text = "802.11", hwmode = "ax", htmode = r.htmode, hardware = { name = "Mock 802.11ax" } })
end

local function freqlist(req, msg)
  local r = radio_of(msg.device)
  if not r then return ubus.STATUS_NOT_FOUND end
  local out = {}
  for _, c in ipairs(channels(r.band)) do
    out[#out + 1] = { channel = c, mhz = mhz(r.band, c), restricted = (r.band == "2g" and c > 11), active = (c == r.channel) }
  end
  conn:reply(req, { results = out })
end

local function scan(req, msg)
  local r = radio_of(msg.device)
  if not r then return ubus.STATUS_NOT_FOUND end
  conn:reply(req, { results = {
    { ssid = "neighbour-" .. r.band, bssid = "06:AA:BB:CC:00:0" .. string.sub(r.name, -1), mode = "Master",
      channel = r.channel, mhz = mhz(r.band, r.channel), signal = -67, quality = 43, quality_max = 70,
      ht_operation = { primary_channel = r.channel, secondary_channel_offset = "no secondary", channel_width = 20 },
      encryption = { enabled = true, wpa = { 2 }, authentication = { "psk" }, ciphers = { "ccmp" } } },
    { ssid = "open-" .. r.band, bssid = "06:AA:BB:CC:01:0" .. string.sub(r.name, -1), mode = "Master",
      channel = r.channel, mhz = mhz(r.band, r.channel), signal = -81, quality = 29, quality_max = 70,
      encryption = { enabled = false } } } })
end

local function clients_of(ifname)
  local out = {}
  for mac, _ in pairs(spec.clients[ifname] or {}) do
    out[mac] = { auth = true, assoc = true, authorized = true, preauth = false, wds = false, wmm = true,
                 ht = true, vht = true, he = true, wps = false, mfp = false, rrm = { 0, 0, 0, 0, 0 }, aid = 1,
                 signal = -52, bytes = { rx = 1000, tx = 5000 }, packets = { rx = 10, tx = 50 }, rate = { rx = 2402, tx = 5765 } }
  end
  return out
end

local function assoclist(req, msg)
  local out = {}
  for mac, _ in pairs(spec.clients[msg.device] or {}) do
    out[#out + 1] = { mac = string.upper(mac), signal = -55, signal_avg = -55, noise = -91, inactive = 10,
      connected_time = 100, thr = 0, authorized = true, authenticated = true, preamble = "long", wme = true,
      mfp = false, tdls = false, rx = { packets = 10, bytes = 1000, rate = 240200, mcs = 11, nss = 2 },
      tx = { packets = 50, bytes = 5000, rate = 576500, mcs = 11, nss = 2 } }
  end
  conn:reply(req, { results = out })
end

-- procd's services: name -> pid of its one instance (registered by `test procd`); running
-- while /proc/<pid> exists, as procd reports a live instance.
local procd = {}
local function service_list(req, msg)
  local out = {}
  for name, pid in pairs(procd) do
    if not msg.name or msg.name == name then
      local f = io.open("/proc/" .. pid .. "/stat")
      local inst = { running = f ~= nil, command = { "/usr/sbin/" .. name }, term_timeout = 5 }
      if f then f:close(); inst.pid = pid else inst.exit_code = 0 end
      out[name] = { instances = { instance1 = inst } }
    end
  end
  conn:reply(req, out)
end

local objects = {
  service = { list = { service_list, { name = ubus.STRING, verbose = ubus.BOOLEAN } } },
  network = { reload = { function(req) reloads = reloads + 1 end, {} } },
  ["network.device"] = { status = { function(req)
    local out = {}
    for _, i in ipairs(spec.ifaces) do
      out[i.ifname] = { up = true, macaddr = i.mac, statistics = { rx_bytes = 1234, tx_bytes = 5678, rx_packets = 12, tx_packets = 56 } }
    end
    conn:reply(req, out)
  end, { name = ubus.STRING } } },
  ["network.wireless"] = { status = { wireless_status, {} }, up = { function() end, {} }, down = { function() end, {} } },
  iwinfo = { info = { info, { device = ubus.STRING } }, freqlist = { freqlist, { device = ubus.STRING } },
             scan = { scan, { device = ubus.STRING } }, assoclist = { assoclist, { device = ubus.STRING, mac = ubus.STRING } } },
  system = {
    board = { function(req)
      conn:reply(req, { kernel = "5.15.150", hostname = "OpenWrt", system = "Test CPU", model = "Test Router",
                        board_name = board_name, rootfs_type = "squashfs", release = release })
    end, {} },
    validate_firmware_image = { validate, { path = ubus.STRING } },
  },
  test = {
    set_release = { function(req, msg)
      release.version = msg.version
      release.revision = msg.revision
      conn:reply(req, { ok = true })
    end, { version = ubus.STRING, revision = ubus.STRING } },
    reloads = { function(req) conn:reply(req, { count = reloads }) end, {} },
    wps_starts = { function(req) conn:reply(req, { count = wps_starts }) end, {} },
    procd = { function(req, msg) procd[msg.name] = msg.pid; conn:reply(req, { ok = true }) end,
              { name = ubus.STRING, pid = ubus.INT32 } },
    join = { function(req, msg)
      spec.clients[msg.ifname] = spec.clients[msg.ifname] or {}
      spec.clients[msg.ifname][msg.mac] = true
      local h = hostapd["hostapd." .. msg.ifname]
      if h then conn:notify(h.__ubusobj, "assoc", { address = msg.mac, freq = 2437 }) end
      conn:reply(req, { ok = true })
    end, { ifname = ubus.STRING, mac = ubus.STRING } },
  },
}
if spec.hostapd then
  for _, i in ipairs(spec.ifaces) do
    if i.mode == "ap" then
      local name = "hostapd." .. i.ifname
      hostapd[name] = {
        get_clients = { function(req) conn:reply(req, { freq = 2437, clients = clients_of(i.ifname) }) end, {} },
        -- hostapd_bss_wps_start: no arguments, no reply data, status 0 when the button was pushed.
        wps_start = { function(req) wps_starts = wps_starts + 1 end, {} },
      }
      objects[name] = hostapd[name]
    end
  end
end
conn:add(objects)
io.stdout:write("ready\n")
io.stdout:flush()
uloop.run()

#!/usr/bin/python3
"""Check a live aetherd against docs/api/openapi.yaml, in TAP.

  openapi_check.py BASE_URL TOKEN_FILE SPEC BGP_NEIGHBOR [BGP_NETWORK...]

BGP_NEIGHBOR is the one neighbour of the daemon's bgp section: passive, with
no speaker behind it. BGP_NETWORKs are the prefixes the speaker originates
(its networks), IPv4 before IPv6, each in address order.

Calls every operation of the spec (good and bad requests, with and without
the token), validates each reply's status, content type and JSON body
against the spec, checks that a refused change changed nothing, and that
the spec and the server's own route list (GET /api/v1/) name the same
routes.
"""

import http.client
import json
import os
import re
import sys
import urllib.parse

import yaml


class Spec:
    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.paths = self.doc["paths"]

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            cur = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                cur = cur[part]
            node = cur
        return node

    def match(self, path):
        """Spec path template for a concrete path, or None."""
        path = urllib.parse.urlsplit(path).path
        for tmpl in self.paths:
            rx = "^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
            if re.match(rx, path):
                return tmpl
        return None

    def validate(self, schema, value, where="$"):
        """List of problems of 'value' against 'schema'."""
        s = self.resolve(schema)
        errs = []
        if value is None:
            return [] if s.get("nullable") else ["%s: null" % where]
        for sub in s.get("allOf", []):
            errs += self.validate(sub, value, where)
        t = s.get("type")
        types = {
            "object": dict, "array": list, "string": str, "boolean": bool,
            "integer": int, "number": (int, float),
        }
        if t:
            ok = isinstance(value, types[t]) and not (t in ("integer", "number") and isinstance(value, bool))
            if not ok:
                return errs + ["%s: expected %s, got %r" % (where, t, value)]
        if "enum" in s and value not in s["enum"]:
            errs.append("%s: %r not in %r" % (where, value, s["enum"]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in s and value < s["minimum"]:
                errs.append("%s: %r < minimum %r" % (where, value, s["minimum"]))
            if "maximum" in s and value > s["maximum"]:
                errs.append("%s: %r > maximum %r" % (where, value, s["maximum"]))
        if isinstance(value, str):
            if len(value) < s.get("minLength", 0):
                errs.append("%s: shorter than %d" % (where, s["minLength"]))
            if "pattern" in s and not re.search(s["pattern"], value):
                errs.append("%s: %r does not match %s" % (where, value, s["pattern"]))
        if isinstance(value, dict):
            props = s.get("properties", {})
            for r in s.get("required", []):
                if r not in value:
                    errs.append("%s: missing %s" % (where, r))
            extra = s.get("additionalProperties", True)
            for k, v in value.items():
                if k in props:
                    errs += self.validate(props[k], v, "%s.%s" % (where, k))
                elif extra is False:
                    errs.append("%s: unexpected member %s" % (where, k))
                elif isinstance(extra, dict):
                    errs += self.validate(extra, v, "%s.%s" % (where, k))
        if isinstance(value, list) and "items" in s:
            for i, v in enumerate(value):
                errs += self.validate(s["items"], v, "%s[%d]" % (where, i))
        return errs


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=()):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc))
        if not cond:
            self.failed += 1
            for d in diag:
                print("# " + str(d).replace("\n", "\n# "))
        sys.stdout.flush()
        return cond


def request(base, method, path, token=None, body=None, ctype="application/json", stream=False):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        headers["Content-Type"] = ctype
        body = body if isinstance(body, (str, bytes)) else json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    if stream and r.status == 200:
        # One whole event, then hang up.
        data = b""
        while b"event: sample\ndata: " not in data or not data.endswith(b"\n\n"):
            chunk = r.fp.readline()
            if not chunk:
                break
            data += chunk
        conn.close()
        return r.status, r.getheader("Content-Type", ""), r.headers, data.decode()
    data = r.read().decode()
    conn.close()
    return r.status, r.getheader("Content-Type", ""), r.headers, data


def main():
    base, token_file, spec_path, peer = sys.argv[1:5]
    own = sys.argv[5:]
    token = open(token_file).read().strip()
    spec = Spec(spec_path)
    tap = Tap()
    exercised = set()

    def check(desc, method, path, status, auth=True, body=None, ctype="application/json",
              stream=False, then=None):
        st, ct, hdrs, text = request(base, method, path, token if auth else None, body, ctype,
                                     stream)
        problems = []
        tmpl = spec.match(path)
        op = spec.paths.get(tmpl, {}).get(method.lower()) if tmpl else None
        if status is not None and st != status:
            problems.append("status %d, expected %d: %s" % (st, status, text[:300]))
        mtype = ct.split(";")[0].strip()
        payload = None
        if op is not None:
            exercised.add((tmpl, method.lower()))
            resp = op["responses"].get(str(st)) or op["responses"].get("default")
            if resp is None:
                problems.append("status %d not documented for %s %s" % (st, method, tmpl))
            else:
                resp = spec.resolve(resp)
                content = resp.get("content", {})
                if content and mtype not in content:
                    problems.append("content type %s not documented (%s)" % (ct, list(content)))
                for h in resp.get("headers", {}):
                    if hdrs.get(h) is None:
                        problems.append("header %s missing" % h)
                schema = content.get(mtype, {}).get("schema")
                if mtype == "application/json":
                    try:
                        payload = json.loads(text)
                    except ValueError as e:
                        problems.append("not JSON: %s" % e)
                elif mtype == "text/event-stream":
                    m = re.search(r"^event: sample\ndata: (.*)$", text, re.M)
                    if not m:
                        problems.append("no sample event in %r" % text[:200])
                    else:
                        payload = json.loads(m.group(1))
                if payload is not None and schema is not None:
                    problems += spec.validate(schema, payload)
        elif st < 400:
            problems.append("%s %s answered %d but the spec does not describe it" % (method, path, st))
        if st >= 400 and mtype == "application/json" and payload is None:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = None
        if st >= 400:
            problems += spec.validate({"$ref": "#/components/schemas/Error"}, payload)
            if isinstance(payload, dict) and payload.get("error", {}).get("status") != st:
                problems.append("error.status differs from the HTTP status")
        if then is not None and not problems:
            problems += then(payload, text) or []
        tap.ok(not problems, "%s %s -> %s: %s" % (method, path, status or st, desc), problems)
        return payload

    def unchanged(before):
        def f(_payload, _text):
            now = request(base, "GET", "/api/v1/log", token)[3]
            return [] if json.loads(now) == before else ["log settings changed: %s" % now]
        return f

    index = check("route list", "GET", "/api/v1/", 200)
    check("ports", "GET", "/api/v1/ports", 200)
    check("nodes", "GET", "/api/v1/nodes", 200)
    check("stats", "GET", "/api/v1/stats", 200)
    check("history", "GET", "/api/v1/history", 200,
          then=lambda p, t: [] if len(p["ts"]) > 0 and all(len(x["rx_pps"]) == len(p["ts"]) for x in p["ports"])
          else ["columns differ in length or no samples"])
    check("history, last 2 s", "GET", "/api/v1/history?seconds=2", 200,
          then=lambda p, t: [] if len(p["ts"]) <= 2 else ["%d samples" % len(p["ts"])])
    check("history, seconds=0", "GET", "/api/v1/history?seconds=0", 400)
    check("history, seconds=abc", "GET", "/api/v1/history?seconds=abc", 400)
    check("one sample event", "GET", "/api/v1/events", 200, stream=True)
    check("events with ?token=", "GET", "/api/v1/events?token=" + token, 200, auth=False,
          stream=True)
    before = check("log settings", "GET", "/api/v1/log", 200)
    check("bad level changes nothing", "PUT", "/api/v1/log", 400,
          body={"level": "loud", "modules": {"api": "debug"}}, then=unchanged(before))
    check("unknown member changes nothing", "PUT", "/api/v1/log", 400,
          body={"level": "debug", "colour": "blue"}, then=unchanged(before))
    check("bad module name changes nothing", "PUT", "/api/v1/log", 400,
          body={"modules": {"Bad Name": "debug"}}, then=unchanged(before))
    check("invalid JSON changes nothing", "PUT", "/api/v1/log", 400, body="{level:",
          then=unchanged(before))
    check("not an object", "PUT", "/api/v1/log", 400, body=[1, 2])
    check("set level and a module level", "PUT", "/api/v1/log", 200,
          body={"level": "debug", "modules": {"api": "warning"}},
          then=lambda p, t: [] if p["level"] == "debug" and p["modules"] == {"api": "warning"}
          else ["not applied: %s" % t])
    check("module back to default", "PUT", "/api/v1/log", 200,
          body={"level": before["level"], "modules": {"api": None}},
          then=lambda p, t: [] if p == before else ["not restored: %s" % t])
    def records_ok(cond, what):
        def f(p, _t):
            recs = p["records"]
            if not recs:
                return ["no records"]
            if [r["ts"] for r in recs] != sorted(r["ts"] for r in recs):
                return ["records not oldest first"]
            bad = [r for r in recs if not cond(r)]
            return ["not %s: %s" % (what, bad[:3])] if bad else []
        return f

    check("recent log records", "GET", "/api/v1/logs", 200,
          then=records_ok(lambda r: True, "records"))
    check("recent log records, at most 3", "GET", "/api/v1/logs?max=3", 200,
          then=lambda p, t: [] if 1 <= len(p["records"]) <= 3 else ["%d records" % len(p["records"])])
    check("recent log records, info or worse of aetherd", "GET",
          "/api/v1/logs?level=info&module=aetherd", 200,
          then=records_ok(lambda r: r["module"] == "aetherd" and r["level"] != "debug",
                          "info or worse of aetherd"))
    check("recent log records, bad level", "GET", "/api/v1/logs?level=loud", 400)
    check("recent log records, max=0", "GET", "/api/v1/logs?max=0", 400)
    check("recent log records, max=abc", "GET", "/api/v1/logs?max=abc", 400)
    check("recent log records, bad module", "GET", "/api/v1/logs?module=Bad%20Name", 400)
    # Runtime routes: this lab cross-connects, so a valid change has nowhere
    # to go (503); malformed ones are refused first (400).
    check("address that is not one", "POST", "/api/v1/interfaces/lan/addresses", 400,
          body={"address": "10.1.2.3"})
    check("address on a data plane that does not route", "POST",
          "/api/v1/interfaces/lan/addresses", 503, body={"address": "10.1.2.3/24"})
    check("address removal without an address", "DELETE", "/api/v1/interfaces/lan/addresses",
          400)
    check("address removal on a data plane that does not route", "DELETE",
          "/api/v1/interfaces/lan/addresses?address=10.1.2.3/24", 503)
    # Bridges: this lab has none; the bridge lab shows real tables.
    check("bridges", "GET", "/api/v1/bridges", 200,
          then=lambda p, t: [] if p["bridges"] == [] else ["bridges: %s" % p["bridges"]])
    check("MAC table", "GET", "/api/v1/bridges/macs", 200,
          then=lambda p, t: [] if p["macs"] == [] else ["macs: %s" % p["macs"]])
    check("MAC table of an unknown bridge", "GET", "/api/v1/bridges/macs?bridge=nope", 404)
    check("flush the MAC table", "DELETE", "/api/v1/bridges/macs", 200,
          then=lambda p, t: [] if p["flushed"] == 0 else ["flushed %s" % p["flushed"]])
    check("flush an unknown bridge", "DELETE", "/api/v1/bridges/macs?bridge=nope", 404)
    # Conntrack: off in this lab, so empty tables; the conntrack lab fills them.
    check("conntrack", "GET", "/api/v1/conntrack", 200,
          then=lambda p, t: [] if p["flows"] == [] and not p["stats"]["enabled"]
          else ["conntrack: %s" % p])
    check("conntrack, filtered", "GET", "/api/v1/conntrack?proto=tcp&address=10.0.0.1&port=80&limit=5",
          200)
    check("conntrack, bad protocol", "GET", "/api/v1/conntrack?proto=sctp", 400)
    check("conntrack events (off in this lab)", "GET", "/api/v1/conntrack/events?limit=10", 200,
          then=lambda p, t: [] if not p["enabled"] and p["events"] == [] else ["events: %s" % p])
    check("conntrack events, bad limit", "GET", "/api/v1/conntrack/events?limit=5000", 400)
    check("flush conntrack by filter", "DELETE", "/api/v1/conntrack?proto=tcp&port=80", 200)
    check("flush conntrack, bad address", "DELETE", "/api/v1/conntrack?address=nope", 400)
    check("conntrack, bad port", "GET", "/api/v1/conntrack?port=70000", 400)
    check("flush conntrack", "DELETE", "/api/v1/conntrack", 200,
          then=lambda p, t: [] if p["flushed"] == 0 else ["flushed %s" % p["flushed"]])
    check("firewall (off in this lab)", "GET", "/api/v1/firewall", 200,
          then=lambda p, t: [] if p == {"enabled": False} else ["firewall: %s" % p])
    check("synproxy (off in this lab)", "GET", "/api/v1/synproxy", 200,
          then=lambda p, t: [] if not p["enabled"] and p["armed"] == [] else ["synproxy: %s" % p])
    check("firewall log (off in this lab)", "GET", "/api/v1/firewall/log", 200,
          then=lambda p, t: [] if p == {"enabled": False, "records": []}
          else ["firewall log: %s" % p])
    check("route without a body", "POST", "/api/v1/routes", 400, body={})
    check("route with host bits", "POST", "/api/v1/routes", 400,
          body={"prefix": "10.1.2.3/8", "via": "blackhole"})
    check("route, mixed families", "POST", "/api/v1/routes", 400,
          body={"prefix": "10.0.0.0/8", "via": "fd00::1"})
    check("route on a data plane that does not route", "POST", "/api/v1/routes", 503,
          body={"prefix": "10.0.0.0/8", "via": "blackhole"})
    check("delete without a prefix", "DELETE", "/api/v1/routes", 400)
    check("delete on a data plane that does not route", "DELETE",
          "/api/v1/routes?prefix=10.0.0.0/8", 503)
    check("reload the unchanged file", "POST", "/api/v1/reload", 200)
    check("capture without a file", "POST", "/api/v1/capture", 400, body={"port": "lan", "count": 1})
    check("capture of an unknown port", "POST", "/api/v1/capture", 404,
          body={"port": "nope", "file": "/tmp/apcheck-nope.pcapng", "count": 1})
    check("capture started", "POST", "/api/v1/capture", 201,
          body={"port": "lan", "file": "/tmp/apcheck-%d.pcapng" % os.getpid(), "count": 1000000})
    check("capture state", "GET", "/api/v1/capture", 200,
          then=lambda p, t: [] if p["active"] else ["not active"])
    check("capture stopped", "DELETE", "/api/v1/capture", 200,
          then=lambda p, t: [] if not p["active"] else ["still active"])
    check("trace with a bad count", "POST", "/api/v1/trace", 400, body={"count": 0})
    check("trace with a bad filter", "POST", "/api/v1/trace", 400,
          body={"count": 5, "filter": "udp port banana"})
    check("trace the next packets", "POST", "/api/v1/trace", 201, body={"count": 5},
          then=lambda p, t: [] if p["active"] else ["tracing did not start"])
    check("traced packets", "GET", "/api/v1/trace", 200)
    check("trace cleared", "DELETE", "/api/v1/trace", 200,
          then=lambda p, t: [] if not p["active"] and not p["packets"] else ["not cleared: %s" % t])
    # BGP: one passive neighbour that never connects, and our own networks.
    nb = "/api/v1/bgp/neighbors/"

    def bgp_peer_down(p):
        if p["address"] != peer or p["state"] not in ("Idle", "Active"):
            return ["neighbour %s in %s" % (p["address"], p["state"])]
        return []

    def own_routes(want):
        def f(p, _t):
            got = [(r["prefix"], r["from"], r["best"]) for r in p["routes"]]
            exp = [(x, "local", True) for x in want]
            if got != exp or p["total"] != len(want) or p["truncated"]:
                return ["routes %s, total %d, truncated %s" % (got, p["total"], p["truncated"])]
            return []
        return f

    def empty(p, _t):
        return [] if p == {"routes": [], "total": 0, "truncated": False} else ["not empty"]

    check("bgp summary", "GET", "/api/v1/bgp/summary", 200,
          then=lambda p, t: bgp_peer_down(p["neighbors"][0]) if
          p["asn"] == 65001 and len(p["neighbors"]) == 1 and p["rib"]["prefixes"] == len(own)
          else ["unexpected summary: %s" % t])
    check("bgp neighbours", "GET", "/api/v1/bgp/neighbors", 200,
          then=lambda p, t: bgp_peer_down(p["neighbors"][0]) if
          len(p["neighbors"]) == 1 and p["neighbors"][0]["passive"]
          else ["unexpected neighbours: %s" % t])
    check("bgp neighbour", "GET", nb + peer, 200,
          then=lambda p, t: bgp_peer_down(p) or
          ([] if p["families"] == [] and p["import"] == "none (RFC 8212)"
           else ["unexpected neighbour: %s" % t]))
    check("bgp neighbour, unknown", "GET", nb + "192.0.2.99", 404)
    check("bgp neighbour, unknown IPv6", "GET", nb + "2001:db8::99", 404)
    check("bgp neighbour, malformed", "GET", nb + "300.1.2.3", 400)
    check("bgp routes", "GET", "/api/v1/bgp/routes", 200, then=own_routes(own))
    check("bgp routes, absent prefix", "GET", "/api/v1/bgp/routes?prefix=10.0.0.0/8", 200,
          then=empty)
    if own:
        check("bgp routes, one prefix", "GET", "/api/v1/bgp/routes?prefix=" + own[-1], 200,
              then=own_routes(own[-1:]))
        check("bgp routes, limit=1", "GET", "/api/v1/bgp/routes?limit=1", 200,
              then=lambda p, t: [] if len(p["routes"]) == 1 and p["total"] == len(own) and
              p["truncated"] == (len(own) > 1) else ["not cut at 1: %s" % t])
    else:
        check("bgp routes, limit=1", "GET", "/api/v1/bgp/routes?limit=1", 200, then=empty)
    check("bgp routes, bad prefix", "GET", "/api/v1/bgp/routes?prefix=banana", 400)
    check("bgp routes, bad length", "GET", "/api/v1/bgp/routes?prefix=2001:db8::/129", 400)
    for rib in ("adj-rib-in", "adj-rib-out"):
        check("bgp %s of a silent neighbour" % rib, "GET", nb + peer + "/" + rib, 200,
              then=empty)
        check("bgp %s, one prefix" % rib, "GET",
              nb + peer + "/" + rib + "?prefix=198.51.100.1/24&limit=5", 200, then=empty)
        check("bgp %s, bad prefix" % rib, "GET", nb + peer + "/" + rib + "?prefix=10.0.0.0/33",
              400)
        check("bgp %s, unknown neighbour" % rib, "GET", nb + "192.0.2.99/" + rib, 404)
        check("bgp %s, malformed neighbour" % rib, "GET", nb + "not-an-address/" + rib, 400)
    mrt = "/tmp/apcheck-%d.mrt" % os.getpid()
    check("bgp mrt dump without a file", "POST", "/api/v1/bgp/mrt-dump", 400, body={})
    check("bgp mrt dump, relative path", "POST", "/api/v1/bgp/mrt-dump", 400,
          body={"file": "rib.mrt"})
    check("bgp mrt dump, unwritable", "POST", "/api/v1/bgp/mrt-dump", 500,
          body={"file": "/nonexistent-dir/rib.mrt"})
    check("bgp mrt dump", "POST", "/api/v1/bgp/mrt-dump", 200, body={"file": mrt},
          then=lambda p, t: [] if p["routes"] == len(own) and p["peers"] == 2 and
          os.path.getsize(mrt) == p["bytes"] else ["unexpected dump: %s" % t])
    check("metrics", "GET", "/metrics", 200,
          then=lambda p, t: [] if "aether_port_rx_packets_total{" in t else ["no port metrics"])
    check("dashboard without a token", "GET", "/", 200, auth=False,
          then=lambda p, t: [] if "<title>AetherPacket</title>" in t else ["not the dashboard"])
    for f in ("app.js", "style.css"):
        check("dashboard file", "GET", "/static/" + f, 200, auth=False)
    check("missing file", "GET", "/static/nope.js", 404, auth=False)
    check("dot file", "GET", "/static/.hidden.js", 404, auth=False)

    # Without the token every protected operation answers 401.
    for tmpl, ops in spec.paths.items():
        for method, op in ops.items():
            if op.get("security", spec.doc.get("security")) == []:
                continue
            body = {} if method == "put" else None
            check("no token", method.upper(), tmpl, 401, auth=False, body=body)

    # Every other plain GET of the spec, with the token: any documented answer.
    for tmpl, ops in spec.paths.items():
        if "get" in ops and "{" not in tmpl and (tmpl, "get") not in exercised:
            check("documented reply", "GET", tmpl, None)

    check("unknown route", "GET", "/api/v1/nope", 404)
    check("wrong method", "DELETE", "/api/v1/ports", 405)

    # The server's routes and the spec's paths are the same set.
    routes = {(r["path"].rstrip("/") or "/", r["method"].lower()) for r in index["routes"]}
    documented = {(p.rstrip("/") or "/", m) for p, ops in spec.paths.items() for m in ops}
    tap.ok(not (documented - routes), "every documented route is served",
           ["not served: %s" % sorted(documented - routes)])
    # A route added without its spec entry is reported, not failed: TODO.
    undocumented = sorted(routes - documented)
    tap.n += 1
    print("%s %d - every served route is documented%s" % (
        "not ok" if undocumented else "ok", tap.n,
        " # TODO undocumented: %s" % undocumented if undocumented else ""))
    missing = {(p, m) for p, ops in spec.paths.items() for m in ops} - exercised
    tap.ok(not missing, "every documented operation was exercised", [sorted(missing)])
    print("1..%d" % tap.n)
    for f in ("/tmp/apcheck-%d.pcapng" % os.getpid(), mrt):
        try:
            os.unlink(f)
        except OSError:
            pass
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Calls a Switchboard server with Python's standard xmlrpc.client and prints what came
back as JSON: for each check, [python type name, repr of the value] or
["Fault", faultCode, faultString]. The Deno test (xmlrpc_python_test.ts) asserts on it.

Usage: python3 xmlrpc_python_client.py http://127.0.0.1:PORT/RPC2
"""

import datetime
import json
import sys
import xmlrpc.client

url = sys.argv[1]
proxy = xmlrpc.client.ServerProxy(url, allow_none=True, use_builtin_types=True)
out = {}


def record(name, thunk):
    try:
        value = thunk()
        out[name] = [type(value).__name__, repr(value)]
    except xmlrpc.client.Fault as fault:
        out[name] = ["Fault", fault.faultCode, fault.faultString]


when = datetime.datetime(2024, 2, 29, 23, 59, 58)
thing = {
    "id": 7, "name": "seven", "score": 7.0, "big": 2**31 - 1, "ok": True,
    "blob": b"\x00\xff", "when": when, "tags": ["a", "b"], "extra": None,
}

record("int", lambda: proxy.Types.echoInt(-2**31))
record("int64", lambda: proxy.Types.echoInt64(2**31 - 1))
record("big64", lambda: proxy.Types.big64())
record("float", lambda: proxy.Types.echoFloat(0.1))
record("half", lambda: proxy.Types.half(6))
record("bool", lambda: proxy.Types.echoBool(True))
record("string", lambda: proxy.Types.echoString("<&> ]]> \u00e9\U0001F600 \t\n"))
record("empty", lambda: proxy.Types.echoString(""))
record("bytes", lambda: proxy.Types.echoBytes(b"\x00\x01\xfe\xff"))
record("date", lambda: proxy.Types.echoDate(when))
record("thing", lambda: proxy.Types.echoThing(thing))
record("any", lambda: proxy.Types.echoAny([1, 2.5, "x", None, False, {"k": [[]]}]))
record("none", lambda: proxy.Types.echoAny(None))
record("nothing", lambda: proxy.Types.nothing())
record("named", lambda: proxy.Types.add({"a": 2, "b": 3}))
record("positional", lambda: proxy.Types.add(2, 3))
record("unqualified", lambda: proxy.add(4, 5))

record("fail", lambda: proxy.Types.fail(42))
record("unknown", lambda: proxy.Types.nope())
record("wrongType", lambda: proxy.Types.add("1", 2))
record("tooMany", lambda: proxy.Types.add(1, 2, 3))
record("tooBig", lambda: proxy.Types.tooBig())

record("listMethods", lambda: proxy.system.listMethods())
record("signature", lambda: proxy.system.methodSignature("Types.half"))
record("help", lambda: proxy.system.methodHelp("Types.half"))

multi = xmlrpc.client.MultiCall(proxy)
multi.Types.half(3)
multi.Types.add(1, 2)
multi.Types.fail(7)
multi.Types.echoBytes(b"\x01")
replies = multi()
results = []
for i in range(4):
    try:
        value = replies[i]
        results.append([type(value).__name__, repr(value)])
    except xmlrpc.client.Fault as fault:
        results.append(["Fault", fault.faultCode, fault.faultString])
out["multicall"] = results

print(json.dumps(out))

#!/usr/bin/env python3
"""Reads JSON lines {"out": base64 message, "ref": base64 message} and
prints, per line and message, the header fields Python's email parser sees:
with compat32 as [name, base64 of the unfolded value's bytes], and with the
default policy as [name, value] (null when that policy refuses it)."""
import base64, email, email.policy, json, re, sys

def unfold(v):
    return re.sub(r"\r?\n", "", v).strip(" \t")

def see(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    res = {"compat32": [[n, base64.b64encode(unfold(str(v)).encode("utf-8", "surrogateescape")).decode()] for n, v in msg.items()]}
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        res["default"] = [[n, unfold(str(v))] for n, v in msg.items()]
    except Exception:  # the default policy may refuse what compat32 reads
        res["default"] = None
    return res

for line in sys.stdin:
    item = json.loads(line)
    print(json.dumps({k: see(base64.b64decode(v)) for k, v in item.items()}), flush=True)

#!/usr/bin/env python3
"""Load test of privacyIDEA's /validate/check, the counterpart of benches/service.rs.

Run by scripts/bench-privacyidea.sh, which starts the server; by hand:

  scripts/bench_privacyidea.py enroll URL ADMIN PASSWORD   # 64 HOTP tokens bench-00..bench-63
  scripts/bench_privacyidea.py run URL [--db PI.SQLITE] [--seconds 10] [--threads 16]

`run` first checks each token's next code once (it must be accepted), then 16 threads, each
with one HTTP/1.1 keep-alive connection, POST /validate/check?serial=…&pass=… with that
accepted code again and again for N seconds: every request is a whole check that privacyIDEA
refuses (the HOTP counter has moved past it). It prints the requests, verifications/s, p50,
p99 and the answers that were not the expected refusal. With --db it also reads privacyIDEA's
SQLite database: the journal mode and synchronous level its connections get (privacyIDEA sets
no PRAGMA, so these are SQLite's defaults), the tokens' fail counters and the audit entries,
to show what each request wrote. Standard library only.
"""
import argparse, hashlib, hmac, http.client, json, sqlite3, struct, threading, time, urllib.parse

TOKENS = 64


def secret(i):
    # Each token's HOTP key, derived from its number so that enroll and run agree.
    return hashlib.sha1(f"digital-otp bench {i}".encode()).digest()


def hotp(key, counter):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def post(conn, path, fields, headers=None):
    body = urllib.parse.urlencode(fields)
    hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    conn.request("POST", path, body, hdrs)
    resp = conn.getresponse()
    data = resp.read()
    if resp.getheader("Connection", "").lower() == "close":
        conn.close()  # http.client reconnects on the next request
    return resp.status, json.loads(data)


def enroll(url, admin, password):
    conn = connect(url)
    status, answer = post(conn, "/auth", {"username": admin, "password": password})
    assert status == 200, answer
    auth = {"Authorization": answer["result"]["value"]["token"]}
    # New tokens take their fail-counter limit from DefaultMaxFailCount (10 by default):
    # raised so that the refusals stay checks and do not become lockouts.
    status, answer = post(conn, "/system/setConfig", {"DefaultMaxFailCount": "100000000"}, auth)
    assert status == 200 and answer["result"]["status"], answer
    for i in range(TOKENS):
        status, answer = post(conn, "/token/init", {
            "type": "hotp", "serial": f"bench-{i:02d}", "otpkey": secret(i).hex(),
            "otplen": "6", "hashlib": "sha1", "genkey": "0"}, auth)
        assert status == 200 and answer["result"]["value"], answer
    print(f"enrolled {TOKENS} HOTP tokens (6 digits, SHA-1), DefaultMaxFailCount=100000000")


def check(conn, i, code):
    status, answer = post(conn, "/validate/check", {"serial": f"bench-{i:02d}", "pass": code})
    result = answer.get("result", {})
    return status, result.get("status"), result.get("value")


def db_facts(path):
    db = sqlite3.connect(path)
    facts = {
        "journal_mode": db.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
            db.execute("PRAGMA synchronous").fetchone()[0]],
        "failcount": db.execute("SELECT COALESCE(SUM(failcount), 0), MAX(maxfail) FROM token"
                                " WHERE serial LIKE 'bench-%'").fetchone(),
        "audit_checks": db.execute("SELECT COUNT(*) FROM pidea_audit"
                                   " WHERE action LIKE '%/validate/check%'").fetchone()[0],
    }
    db.close()
    return facts


def run(url, seconds, threads, dbpath):
    # One accepted check per token: the code for counter 0.
    conn = connect(url)
    codes = [hotp(secret(i), 0) for i in range(TOKENS)]
    accepted = sum(check(conn, i, codes[i])[2] is True for i in range(TOKENS))
    print(f"accepted first checks: {accepted}/{TOKENS}")
    # Now the same codes again: each must be refused (status true, value false).
    before = db_facts(dbpath) if dbpath else None
    latencies, unexpected, errors = [], [0], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(t):
        conn, mine, bad, n = connect(url), [], 0, 0
        while time.monotonic() < deadline:
            i = (t + threads * n) % TOKENS  # each thread cycles through its share of tokens
            n += 1
            start = time.perf_counter()
            try:
                status, ok, value = check(conn, i, codes[i])
            except Exception as err:  # a dropped connection: count it, reconnect
                conn.close()
                with lock:
                    errors.append(repr(err))
                continue
            mine.append(time.perf_counter() - start)
            bad += not (status == 200 and ok is True and value is False)
        with lock:
            latencies.extend(mine)
            unexpected[0] += bad

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"threads {threads}, {seconds} s: {len(latencies)} requests in {elapsed:.2f} s, "
          f"{len(latencies) / elapsed:,.1f} verifications/s, p50 {q(0.50):.2f} ms, "
          f"p99 {q(0.99):.2f} ms, not the expected refusal: {unexpected[0]}, "
          f"transport errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    if dbpath:
        after = db_facts(dbpath)
        print(f"SQLite file and connection defaults: journal_mode={after['journal_mode']}, synchronous={after['synchronous']}"
              f" (privacyIDEA sets no PRAGMA of its own); fail counters +{after['failcount'][0] - before['failcount'][0]}"
              f" (maxfail {after['failcount'][1]}), audit entries for /validate/check"
              f" +{after['audit_checks'] - before['audit_checks']} during the run")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enroll")
    e.add_argument("url"), e.add_argument("admin"), e.add_argument("password")
    r = sub.add_parser("run")
    r.add_argument("url")
    r.add_argument("--db", help="privacyIDEA's SQLite file, to read its settings and writes")
    r.add_argument("--seconds", type=float, default=10)
    r.add_argument("--threads", type=int, default=16)
    a = p.parse_args()
    if a.cmd == "enroll":
        enroll(a.url, a.admin, a.password)
    else:
        run(a.url, a.seconds, a.threads, a.db)


if __name__ == "__main__":
    main()

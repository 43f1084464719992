"""The issuer's HTTP service against its contract, docs/openapi.yaml (issue 16).

A real `dotp issuer serve` on a loopback port (scripts/test-python.sh builds it and sets
DIGITAL_OTP_DOTP): the routes it serves are exactly the spec's, every operation of the spec
is called and its answer has a status the spec lists and a body that validates against the
spec's schema for it, and a Python app enrolls, unlocks and has its codes verified through
it, over the socket.
"""

import json
import pathlib
import time

import jsonschema
import pytest
import yaml

import digital_otp as otp
from app_support import TestClock, TestStore
from service_support import Server

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
METHODS = ("get", "put", "post", "delete", "patch")
PASSWORD = "482915"


def spec_routes():
    return {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if m in METHODS}


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def resolve(node):
    """`node` with a top-level $ref replaced by its target in the spec."""
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


CALLED = set()


def check(server, method, template, path, status_wanted=None, **kwargs):
    """Calls the operation and checks the answer against the spec; returns (status, body)."""
    operation = SPEC["paths"][template][method.lower()]
    status, headers, body = server.call(method, path, **kwargs)
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path}: {status} is not in the spec ({list(responses)}): {body!r}"
    if status_wanted is not None:
        assert status == status_wanted, f"{method} {path}: {status}: {body!r}"
    response = resolve(responses[str(status)])
    content = response.get("content", {}).get("application/json")
    if content is not None:
        assert headers.get("content-type", headers.get("Content-Type", "")).startswith("application/json")
        document = json.loads(body)
        schema = dict(resolve(content["schema"]))
        schema["components"] = SPEC["components"]
        jsonschema.Draft202012Validator(schema).validate(document)
    else:
        document = None
    CALLED.add((method.upper(), template))
    return status, document if document is not None else body


def test_the_routes_served_are_exactly_the_spec(server):
    listed = server.run("issuer", "serve", "--list-routes").split("\n")
    served = {tuple(line.split(" ", 1)) for line in listed if line}
    assert served == spec_routes()


def test_the_spec_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                assert op.get("operationId") and op.get("responses"), (method, path)
                for status, response in op["responses"].items():
                    schema = resolve(response).get("content", {}).get("application/json", {}).get("schema")
                    if schema is not None:
                        jsonschema.Draft202012Validator.check_schema(dict(resolve(schema)))


def test_every_operation_answers_per_its_schema_and_a_python_app_enrolls_through_it(server):
    i = "/v1/institutions/{institution}"
    c = i + "/customers/{customer}"
    d = i + "/devices/{vendor}/{serial}"
    check(server, "GET", "/healthz", "/healthz", 200)
    check(server, "GET", "/readyz", "/readyz", 200)
    check(server, "POST", "/v1/institutions", "/v1/institutions", 200, key="centre",
          body={"institution": "bank-c", "name": "Bank C"})
    check(server, "POST", "/v1/institutions", "/v1/institutions", 403, key="staff",
          body={"institution": "bank-d", "name": "Bank D"})
    check(server, "POST", i + "/customers", "/v1/institutions/bank-a/customers", 201, key="staff",
          body={"customer": "c1", "name": "홍길동", "phone": "+82 10-1234-5678"})
    check(server, "POST", i + "/customers", "/v1/institutions/bank-a/customers", 409, key="staff",
          body={"customer": "c1", "name": "홍길동", "phone": "010-1234-5678"})
    check(server, "POST", i + "/customers", "/v1/institutions/bank-a/customers", 400, key="staff",
          body={"customer": "c2", "name": "x"})
    check(server, "POST", c + "/sms-challenge", "/v1/institutions/bank-a/customers/c1/sms-challenge", 202,
          key="staff")
    _, code = check(server, "POST", c + "/registration-codes", "/v1/institutions/bank-a/customers/c1/registration-codes",
                    201, key="staff", body={"verification_reference": "kyc-7"})
    check(server, "POST", c + "/registration-codes", "/v1/institutions/bank-a/customers/c1/registration-codes",
          400, key="staff", body={})

    # The app, over the socket.
    clock = TestClock(int(time.time()))
    store = TestStore()
    app = otp.DigitalOtp.with_clock(store, otp.software_device_keys(store), clock)
    phone = otp.DeviceInfo("010-1234-5678", "python-device-1")
    request = app.begin_registration("bank-a", code["registration_code"], phone, PASSWORD)
    _, answer = check(server, "POST", i + "/registration", "/v1/institutions/bank-a/registration", 200,
                      key="channel", raw=bytes(request))
    confirmation = app.confirm_registration(json.dumps(answer).encode())
    _, outcome = check(server, "POST", i + "/registration", "/v1/institutions/bank-a/registration", 200,
                       key="channel", raw=bytes(confirmation))
    credential = app.complete_registration("bank-a", json.dumps(outcome).encode())
    serial = credential.serial_number
    unlock = app.begin_login_code("bank-a", PASSWORD, phone)
    _, evaluation = check(server, "POST", i + "/unlock", "/v1/institutions/bank-a/unlock", 200, key="channel",
                          raw=bytes(unlock))
    login = app.complete_login_code(json.dumps(evaluation).encode())
    verify = "/v1/institutions/bank-a/customers/c1/login-verifications"
    _, verdict = check(server, "POST", c + "/login-verifications", verify, 200, key="channel",
                       body={"code": login.code})
    assert verdict == {"verdict": "accepted"}
    _, verdict = check(server, "POST", c + "/login-verifications", verify, 200, key="channel",
                       body={"code": login.code})
    assert verdict == {"verdict": "rejected"}, "a replayed code"
    check(server, "POST", c + "/login-verifications", verify, 400, key="channel", body={"code": "abc"})
    check(server, "POST", c + "/login-verifications", verify, 401, body={"code": "123456"})
    check(server, "POST", c + "/login-verifications", verify, 403, key="staff", body={"code": "123456"})
    tx = {"amount_minor": 50000, "currency": "KRW", "payee_account": "110-123-456789", "payee_name": "김철수"}
    check(server, "POST", c + "/transaction-verifications",
          "/v1/institutions/bank-a/customers/c1/transaction-verifications", 200, key="channel",
          body={"code": "00000000", "transaction": tx})

    # The desk on that device.
    _, customer = check(server, "GET", c, "/v1/institutions/bank-a/customers/c1", 200, key="staff",
                        headers={"X-Dotp-Actor": "clerk-7"})
    assert customer["phone"] == "+821012345678"
    assert customer["devices"][0]["serial"] == serial
    check(server, "GET", c, "/v1/institutions/bank-a/customers/c1", 403, key="staff_b")
    device = f"/v1/institutions/bank-a/devices/DOTP/{serial}"
    _, report = check(server, "GET", d, device, 200, key="staff")
    assert report["error_count"] == 1, "the wrong transaction code counted"
    check(server, "POST", d + "/error-count-reset", device + "/error-count-reset", 200, key="staff")
    check(server, "PUT", d + "/accident", device + "/accident", 200, key="staff", body={"kind": "lost"})
    check(server, "PUT", d + "/accident", device + "/accident", 400, key="staff", body={"kind": "eaten"})
    _, cleared = check(server, "DELETE", d + "/accident", device + "/accident", 200, key="staff")
    assert cleared["pending_clearance"] == []
    check(server, "GET", d, "/v1/institutions/bank-a/devices/DOTP/NOPE0000000", 404, key="staff")
    _, audit = check(server, "GET", i + "/audit", "/v1/institutions/bank-a/audit?limit=5", 200, key="staff")
    assert len(audit["entries"]) == 5
    assert any(e["actor"] == "clerk-7 via api:" + server.keys["staff"].split("_")[1] for e in
               check(server, "GET", i + "/audit", "/v1/institutions/bank-a/audit?limit=500", 200, key="staff")[1]["entries"])
    check(server, "GET", i + "/audit", "/v1/institutions/bank-a/audit?limit=0", 400, key="staff")
    check(server, "PUT", c + "/device", "/v1/institutions/bank-a/customers/c1/device", 409, key="staff",
          body={"vendor": "DOTP", "serial": serial})
    check(server, "PUT", c + "/phone", "/v1/institutions/bank-a/customers/c1/phone", 200, key="staff",
          body={"phone": "010-9876-5432"})
    _, customer = check(server, "GET", c, "/v1/institutions/bank-a/customers/c1", 200, key="staff")
    assert customer["phone"] == "+821098765432"
    assert customer["devices"] == [] or customer["devices"][0]["registrations"][-1]["state"] == "revoked"
    check(server, "DELETE", c + "/device", "/v1/institutions/bank-a/customers/c1/device", 404, key="staff")

    assert CALLED == spec_routes(), f"not called: {spec_routes() - CALLED}"


def test_bad_requests_are_typed_json_errors(server):
    status, headers, body = server.call("GET", "/v1/nowhere", key="channel")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    status, _, body = server.call("POST", "/v1/institutions/bank-a/customers/c9/login-verifications",
                                  key="channel", raw=b"{not json")
    assert status == 400 and json.loads(body)["error"] == "invalid_request"

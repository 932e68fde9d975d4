"""Webhooks as a receiver sees them (issue #21), checked with the official Python library,
`standardwebhooks` from PyPI (pinned in requirements.txt): a real HTTP receiver on this
machine gets every event type the API can cause here, each verified with
`Webhook(secret).verify(body, headers)`; a tampered body, a stale timestamp and a wrong
secret are rejected by the same library.

Usage: webhooks_check.py BASE_URL. The server must allow http and private addresses
(QUIVER_WEBHOOK_ALLOW_HTTP=1, QUIVER_WEBHOOK_ALLOW_PRIVATE=1): the receiver is plain http
on 127.0.0.1. Bounded: each wait gives up after WAIT seconds and the script fails.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BASE = sys.argv[1].rstrip("/")
PASSWORD = "quiver-demo"
CREATOR, SELLER = "creator@example.com", "brand@example.com"
# The demo's approval-mode brand, which the first demo creator has no grant for.
BRAND, CREATOR_ID = "lumen-home", "aff_demo_creator"
WAIT = 30.0


class Receiver:
    """Records every POST (headers and raw body) at /<name> and answers 204."""

    def __init__(self):
        self.got = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.got.setdefault(self.path, []).append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def requests(self, name):
        with self.lock:
            return list(self.got.get("/" + name, []))


def call(method, path, token=None, body=None, form=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def expect(status, got, what):
    code, body = got
    assert code == status, f"{what}: expected {status}, got {code}: {body}"
    return body


def token(email):
    body = expect(200, call("POST", "/token", form={"username": email, "password": PASSWORD}), "token")
    return body["access_token"]


def register(tok, rx, name, events):
    body = {"url": rx.url(name), "events": events, "description": "reliability webhooks_check"}
    ep = expect(201, call("POST", "/webhooks", tok, body), f"register {name}")
    assert ep["secret"].startswith("whsec_"), ep
    return ep["id"], ep["secret"]


def verified(rx, name, secret):
    """Every event received at `name`, each verified by the official library."""
    hook = Webhook(secret)
    out = []
    for headers, body in rx.requests(name):
        event = hook.verify(body, headers)
        assert headers["webhook-id"].startswith("msg_"), headers
        assert event == json.loads(body), "verify returns the parsed body"
        assert set(event) == {"type", "timestamp", "data"}, event
        out.append((headers, body, event))
    return out


def wait_for(rx, name, secret, event_type, n=1):
    """The n-th verified event of `event_type` at `name`."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        of = [e for e in verified(rx, name, secret) if e[2]["type"] == event_type]
        if len(of) >= n:
            return of[n - 1]
        time.sleep(0.05)
    seen = [e[2]["type"] for e in verified(rx, name, secret)]
    raise AssertionError(f"no {event_type} #{n} at {name} within {WAIT}s; got {seen}")


def rejected(hook, body, headers, what):
    try:
        hook.verify(body, headers)
    except WebhookVerificationError as e:
        return str(e)
    raise AssertionError(f"{what} was accepted")


def check_rejections(secret, headers, body):
    hook = Webhook(secret)
    hook.verify(body, headers)
    tampered = body.replace(b'"type"', b'"typo"', 1)
    assert tampered != body
    rejected(hook, tampered, headers, "a tampered body")
    # A stale timestamp, correctly signed for that time: only the timestamp is wrong.
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    stale = dict(headers)
    stale["webhook-timestamp"] = str(int(old.timestamp()))
    stale["webhook-signature"] = hook.sign(headers["webhook-id"], old, body.decode())
    reason = rejected(hook, body, stale, "a stale timestamp")
    assert "old" in reason.lower(), reason
    rejected(Webhook("whsec_" + "A" * 43 + "="), body, headers, "another secret")


def promotable_asin(tok):
    page = expect(200, call("GET", "/getproducts?marketplace=amazon.de&limit=50", tok), "products")
    asins = [p["asin"] for p in page["product_catalog"] if p.get("can_promote")]
    assert asins, page
    return asins[0]


def clear_access(seller):
    """Undoes what earlier runs (or schemathesis) may have left between the demo creator and
    the approval-mode brand: a pending request, a grant. Before any endpoint exists."""
    page = expect(200, call("GET", f"/sellers/access_requests?status=pending&brand_id={BRAND}", seller),
                  "pending requests")
    rows = next((v for v in page.values() if isinstance(v, list)), [])
    for r in rows:
        if r.get("creator") == CREATOR_ID:
            expect(200, call("POST", f"/sellers/access_requests/{r['id']}/decline", seller, {}), "clear")
    status, body = call("DELETE", f"/sellers/brands/{BRAND}/grants/{CREATOR_ID}", seller)
    assert status in (200, 404), (status, body)


def ask_for_access(creator):
    body = {"brand_id": BRAND, "message": "reliability"}
    return expect(201, call("POST", "/access_requests", creator, body), "access request")


def main():
    rx = Receiver()
    creator, seller = token(CREATOR), token(SELLER)
    clear_access(seller)
    creator_events = [
        "link.created",
        "link.updated",
        "bulk_job.finished",
        "access_request.approved",
        "access_request.declined",
        "grant.revoked",
    ]
    seller_events = [
        "access_request.created",
        "access_request.approved",
        "access_request.declined",
        "grant.revoked",
    ]
    c_id, c_secret = register(creator, rx, "creator", creator_events)
    s_id, s_secret = register(seller, rx, "seller", seller_events)
    seen = set()

    # ping, through POST /webhooks/{id}/test (whatever the endpoint subscribes to).
    for tok, ep, name, secret in [(creator, c_id, "creator", c_secret), (seller, s_id, "seller", s_secret)]:
        expect(202, call("POST", f"/webhooks/{ep}/test", tok, {}), "test ping")
        _, _, ev = wait_for(rx, name, secret, "ping")
        assert ev["data"]["endpoint_id"] == ep, ev
        seen.add("ping")

    # link.created carries the link as the API returned it; link.updated the renamed one.
    asin = promotable_asin(creator)
    link = expect(201, call("POST", "/generate_attribution_link", creator,
                            {"asin": asin, "marketplace": "amazon.de", "link_name": "webhooks-check"}), "link")
    _, _, ev = wait_for(rx, "creator", c_secret, "link.created")
    assert ev["data"] == link, (ev["data"], link)
    renamed = expect(200, call("PATCH", f"/links/{link['id']}", creator, {"link_name": "webhooks-check-renamed"}),
                     "rename")
    _, _, ev = wait_for(rx, "creator", c_secret, "link.updated")
    assert ev["data"] == renamed and ev["data"]["link_name"] == "webhooks-check-renamed", ev
    seen |= {"link.created", "link.updated"}

    # bulk_job.finished, after the job's own link.created.
    job = expect(202, call("POST", "/bulk_generate_attribution_links", creator,
                           {"links": [{"asin": asin, "marketplace": "amazon.de", "link_name": "webhooks-bulk"}]}),
                 "bulk job")
    _, _, ev = wait_for(rx, "creator", c_secret, "bulk_job.finished")
    assert ev["data"]["job_id"] == job["job_id"] and ev["data"]["status"] == "done", ev
    assert ev["data"]["succeeded"] == 1, ev
    wait_for(rx, "creator", c_secret, "link.created", 2)
    seen.add("bulk_job.finished")

    # Access: asked (the brand is told), approved and revoked (both sides), asked again and
    # declined (both sides).
    req = ask_for_access(creator)
    _, _, ev = wait_for(rx, "seller", s_secret, "access_request.created")
    assert ev["data"] == req, ev
    expect(200, call("POST", f"/sellers/access_requests/{req['id']}/approve", seller, {}), "approve")
    for name, secret in [("seller", s_secret), ("creator", c_secret)]:
        _, _, ev = wait_for(rx, name, secret, "access_request.approved")
        assert ev["data"]["id"] == req["id"] and ev["data"]["status"] == "approved", ev
    grant = expect(200, call("DELETE", f"/sellers/brands/{BRAND}/grants/{CREATOR_ID}", seller), "revoke")
    for name, secret in [("seller", s_secret), ("creator", c_secret)]:
        _, _, ev = wait_for(rx, name, secret, "grant.revoked")
        assert ev["data"] == grant and ev["data"]["active"] is False, ev
    again = ask_for_access(creator)
    wait_for(rx, "seller", s_secret, "access_request.created", 2)
    declined = expect(200, call("POST", f"/sellers/access_requests/{again['id']}/decline", seller,
                                {"reason": "reliability"}), "decline")
    for name, secret in [("seller", s_secret), ("creator", c_secret)]:
        _, _, ev = wait_for(rx, name, secret, "access_request.declined")
        assert ev["data"] == declined, ev
    seen |= {"access_request.created", "access_request.approved", "access_request.declined", "grant.revoked"}

    # Every request received so far verified above (wait_for verifies all of them); now the
    # library's refusals, on a real delivery of each endpoint.
    for name, secret in [("creator", c_secret), ("seller", s_secret)]:
        headers, body, _ = verified(rx, name, secret)[0]
        check_rejections(secret, headers, body)
    # Each event once per endpoint: no webhook-id twice.
    for name, secret in [("creator", c_secret), ("seller", s_secret)]:
        ids = [h["webhook-id"] for h, _, _ in verified(rx, name, secret)]
        assert len(ids) == len(set(ids)), ids

    # Leave nothing behind that would send to this receiver once it is gone.
    for tok, ep in [(creator, c_id), (seller, s_id)]:
        expect(204, call("DELETE", f"/webhooks/{ep}", tok), "delete endpoint")
    total = sum(len(rx.requests(n)) for n in ("creator", "seller"))
    print(f"webhooks: {total} deliveries verified with standardwebhooks (PyPI) for "
          f"{len(seen)} event types: {', '.join(sorted(seen))}; a tampered body, a stale "
          f"timestamp and another secret were rejected")


if __name__ == "__main__":
    main()

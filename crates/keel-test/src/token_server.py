"""A registry token service for tests, as Docker Hub and GHCR run one: the registry answers 401
with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the client asks this service
for a token (HTTP Basic with its credentials, or none), and the registry checks the token's
signature against the certificate it was given (`rootcertbundle`).

Usage: token_server.py DIR USER PASSWORD ISSUER SERVICE
Writes DIR/token.pem (the certificate the registry trusts), appends one JSON line per token
request to DIR/tokens.log, and prints the port it listens on (127.0.0.1) once it is ready.
Tokens are RS256 JWTs carrying the certificate in `x5c`; a known user gets the push and pull
it asked for, an anonymous client a token with no access, wrong credentials a 401.
"""

import base64
import datetime
import http.server
import json
import os
import sys
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

DIR, USER, PASSWORD, ISSUER, SERVICE = sys.argv[1:6]

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = datetime.datetime.now(datetime.timezone.utc)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keel test token issuer")])
CERT = (
    x509.CertificateBuilder()
    .subject_name(NAME)
    .issuer_name(NAME)
    .public_key(KEY.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(NOW - datetime.timedelta(hours=1))
    .not_valid_after(NOW + datetime.timedelta(days=2))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(KEY, hashes.SHA256())
)
with open(os.path.join(DIR, "token.pem"), "wb") as out:
    out.write(CERT.public_bytes(serialization.Encoding.PEM))
X5C = base64.b64encode(CERT.public_bytes(serialization.Encoding.DER)).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(subject, access):
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [X5C]}
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": base64.b16encode(os.urandom(8)).decode(),
        "access": access,
    }
    signing_input = (
        b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    )
    signature = KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            return self.answer(404, {"error": "not found"})
        query = urllib.parse.parse_qs(url.query)
        user = None
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            name, _, secret = pair.partition(":")
            if (name, secret) != (USER, PASSWORD):
                self.record(name, query, False)
                return self.answer(
                    401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]},
                    [("WWW-Authenticate", 'Basic realm="keel-test-token"')],
                )
            user = name
        access = []
        if user is not None:
            for scope in query.get("scope", []):
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        self.record(user, query, True)
        issued = token(user or "", access)
        self.answer(200, {"token": issued, "access_token": issued, "expires_in": 300})

    def record(self, user, query, granted):
        with open(os.path.join(DIR, "tokens.log"), "a") as log:
            line = {
                "user": user,
                "service": query.get("service", [None])[0],
                "scope": query.get("scope", []),
                "granted": granted,
            }
            log.write(json.dumps(line) + "\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()

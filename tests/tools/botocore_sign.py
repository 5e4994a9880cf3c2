#!/usr/bin/env python3
"""Reference SigV4 signatures from botocore, for tests/unit/sigv4_botocore_test.cc.

Reads a JSON list of requests on stdin and prints a JSON list of results on stdout, one per
request and in the same order. A request:

  {"id": 7, "kind": "header" | "presign", "service": "s3", "region": "us-east-1",
   "scheme": "https", "host": "bucket.s3.amazonaws.com" (may carry :port),
   "method": "PUT", "path": "/decoded key" (decoded), "query": [["k", "v"], ...] (decoded),
   "headers": [["Name", "value"], ...] (repeats allowed), "body": "text",
   "unsigned_payload": false, "access_key": "...", "secret_key": "...",
   "token": "..." or null, "epoch_seconds": 1369353600, "expires": 3600}

A result: {"id", "wire_path", "canonical_request", "string_to_sign", "authorization"
(header kind) or "query" (presign kind: the query string botocore puts on the URL)}, or
{"id", "error"} if botocore raised.

Signers: S3SigV4Auth / SigV4Auth for "header", S3SigV4QueryAuth / SigV4QueryAuth for
"presign". The clock is fixed by replacing botocore.auth.get_current_datetime. The wire path
is what botocore's rest serializers produce: percent_encode(key, safe='/~').

Exit status: 0 on success, 3 if botocore cannot be imported, 2 on malformed input.
"""

import datetime
import json
import sys

try:
    import botocore
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except Exception as e:  # noqa: BLE001 - any import failure means "not installed"
    sys.stderr.write(f"botocore_sign.py: cannot import botocore ({e!r}); "
                     f"install it with: python3 -m pip install botocore\n")
    sys.exit(3)


class _CaptureMixin:
    """Remembers the canonical request and string to sign botocore computed."""

    captured_canonical = None
    captured_sts = None

    def canonical_request(self, request):
        cr = super().canonical_request(request)
        self.captured_canonical = cr
        return cr

    def string_to_sign(self, request, canonical_request):
        sts = super().string_to_sign(request, canonical_request)
        self.captured_sts = sts
        return sts


class CapS3(_CaptureMixin, botocore.auth.S3SigV4Auth):
    pass


class CapV4(_CaptureMixin, botocore.auth.SigV4Auth):
    pass


class CapS3Query(_CaptureMixin, botocore.auth.S3SigV4QueryAuth):
    pass


class CapV4Query(_CaptureMixin, botocore.auth.SigV4QueryAuth):
    pass


class _S3Config:
    """Stands in for botocore.config.Config: only the `s3` attribute is read."""

    def __init__(self, payload_signing_enabled):
        self.s3 = {'payload_signing_enabled': payload_signing_enabled}


def _sign_one(req):
    when = datetime.datetime.fromtimestamp(int(req['epoch_seconds']),
                                           tz=datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *args, **kwargs: when

    creds = Credentials(req['access_key'], req['secret_key'], req.get('token') or None)
    service = req['service']
    region = req['region']
    is_s3 = service == 's3'
    presign = req['kind'] == 'presign'

    wire_path = percent_encode(req['path'], safe='/~')
    url = f"{req['scheme']}://{req['host']}{wire_path}"
    query = [(k, v) for k, v in req['query']]
    body = req.get('body') or ''

    aws_request = AWSRequest(method=req['method'], url=url, data=body.encode('utf-8'),
                             params=dict(query) if presign else query)
    for name, value in req['headers']:
        aws_request.headers[name] = value  # HTTPHeaders appends: repeats are kept
    if is_s3 and req.get('unsigned_payload'):
        aws_request.context['client_config'] = _S3Config(False)

    if presign:
        cls = CapS3Query if is_s3 else CapV4Query
        signer = cls(creds, service, region, expires=int(req['expires']))
    else:
        cls = CapS3 if is_s3 else CapV4
        signer = cls(creds, service, region)
    signer.add_auth(aws_request)

    out = {
        'id': req['id'],
        'wire_path': wire_path,
        'canonical_request': signer.captured_canonical,
        'string_to_sign': signer.captured_sts,
    }
    if presign:
        out['query'] = aws_request.url.split('?', 1)[1]
    else:
        out['authorization'] = aws_request.headers['Authorization']
    return out


def main():
    try:
        requests = json.load(sys.stdin)
    except ValueError as e:
        sys.stderr.write(f"botocore_sign.py: bad JSON on stdin: {e}\n")
        return 2
    results = []
    for req in requests:
        try:
            results.append(_sign_one(req))
        except Exception as e:  # noqa: BLE001 - report per request, keep going
            results.append({'id': req.get('id'), 'error': repr(e)})
    json.dump(results, sys.stdout, ensure_ascii=False)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

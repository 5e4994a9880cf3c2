# A small S3 client in the standard library for bench/perf_suite.py: SigV4-signed requests
# (path style, UNSIGNED-PAYLOAD, as s3rver insists on x-amz-content-sha256), one keep-alive
# connection per thread, parallel PUT/DELETE with retries, and LIST paged by start-after
# (s3rver's continuation tokens are random base64 that trip up signing). It sets up and checks
# the benchmark's data directly on the server, never through the latency proxy.
import datetime
import hashlib
import hmac
import http.client
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

def _quote(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


class S3Error(Exception):
    pass


class S3:
    """Thread-safe: every thread gets its own connection."""

    def __init__(self, endpoint, bucket, access_key, secret_key, region="us-east-1"):
        parsed = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.bucket, self.region = bucket, region
        self.access_key, self.secret_key = access_key, secret_key
        self._local = threading.local()

    def _conn(self, fresh=False):
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=300,
                                              blocksize=1 << 20)
            self._local.conn = conn
        return conn

    def _sign(self, method, path, query, headers):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers["host"] = f"{self.host}:{self.port}"
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        names = sorted(h.lower() for h in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        canonical_headers = "".join(f"{n}:{lower[n]}\n" for n in names)
        signed = ";".join(names)
        canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
        request = "\n".join([method, path, canonical_query, canonical_headers, signed,
                             "UNSIGNED-PAYLOAD"])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(request.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={signature}")
        return canonical_query

    def request(self, method, key="", query=None, headers=None, body=None, retries=5):
        """Returns (status, headers dict (lower-case names), body bytes). Retries 5xx and
        connection errors (s3rver now and then answers one of parallel requests with 500)."""
        query = dict(query or {})
        path = "/" + _quote(self.bucket) + ("/" + _quote(key, safe="-_.~/") if key else "")
        for attempt in range(retries):
            hdrs = dict(headers or {})
            qs = self._sign(method, path, query, hdrs)
            if body is not None and not isinstance(body, (bytes, bytearray)):
                body.seek(0)
            try:
                conn = self._conn(fresh=attempt > 0)
                conn.request(method, path + ("?" + qs if qs else ""), body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
            except (OSError, http.client.HTTPException) as e:
                if attempt == retries - 1:
                    raise S3Error(f"{method} {key}: {e}") from e
                time.sleep(0.2 * (attempt + 1))
                continue
            if result[0] >= 500 and attempt < retries - 1:
                time.sleep(0.2 * (attempt + 1))
                continue
            return result
        raise S3Error(f"{method} {key}: retries exhausted")

    def _check(self, what, status, data, ok=(200, 204)):
        if status not in ok:
            raise S3Error(f"{what}: HTTP {status} {data[:200]!r}")

    def create_bucket(self):
        status, _, data = self.request("PUT")
        self._check("create bucket", status, data, ok=(200, 409))

    def put(self, key, body, metadata=None, length=None):
        headers = {f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()}
        headers["Content-Length"] = str(len(body) if length is None else length)
        status, _, data = self.request("PUT", key, headers=headers, body=body)
        self._check(f"PUT {key}", status, data)

    def size(self, key):
        """Content-Length by HEAD, None if the object does not exist."""
        status, headers, _ = self.request("HEAD", key)
        if status == 404:
            return None
        self._check(f"HEAD {key}", status, b"")
        return int(headers.get("content-length", "-1"))

    def list(self, prefix):
        """[(key, size)] of every object under prefix, paged by start-after."""
        out, after = [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if after:
                query["start-after"] = after
            status, _, data = self.request("GET", query=query)
            self._check(f"LIST {prefix}", status, data)
            root = ET.fromstring(data)
            for el in root.iter():  # namespaces differ (s3rver: doc.s3.amazonaws.com)
                el.tag = el.tag.rsplit("}", 1)[-1]
            page = [(c.findtext("Key"), int(c.findtext("Size")))
                    for c in root.iter("Contents")]
            out += page
            if root.findtext("IsTruncated") != "true" or not page:
                return out
            after = page[-1][0]

    def delete(self, key):
        status, _, data = self.request("DELETE", key)
        self._check(f"DELETE {key}", status, data, ok=(200, 204, 404))

    def parallel(self, fn, items, workers=8):
        """Calls fn(item) for every item from `workers` threads; raises the first error."""
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(fn, items):
                pass

    def delete_prefix(self, prefix):
        """Deletes everything under prefix; lists again until nothing is left."""
        for _ in range(5):
            keys = [k for k, _ in self.list(prefix)]
            if not keys:
                return
            self.parallel(self.delete, keys)
        raise S3Error(f"objects under {prefix} are left after 5 rounds of DELETE")


class PatternReader:
    """A file-like body of `size` bytes, every MiB distinct (one random MiB with the MiB's
    number written over its first 16 bytes), made without reading /dev/urandom for all of it."""

    def __init__(self, size, seed_block):
        self.size, self.pos, self.block = size, 0, seed_block

    def seek(self, pos):
        self.pos = pos

    def read(self, n=-1):
        if self.pos >= self.size:
            return b""
        mib = self.pos >> 20
        start = self.pos & ((1 << 20) - 1)
        chunk = (b"%016d" % mib + self.block[16:])[start:]
        if n is not None and n >= 0:
            chunk = chunk[:n]
        chunk = chunk[: self.size - self.pos]
        self.pos += len(chunk)
        return chunk

import http from 'node:http';

export interface HttpResponse {
  status: number;
  text: string;
}

/**
 * A minimal keep-alive HTTP/1.1 client on node:http: the cheapest client Node has, so the
 * benchmark's own overhead stays small next to the server's.
 */
export function createHttpClient(baseUrl: string) {
  const agent = new http.Agent({ keepAlive: true });
  const base = new URL(baseUrl);

  function request(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    headers: http.OutgoingHttpHeaders = {},
    body?: Buffer,
  ): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new Error(`${method} ${pathAndQuery.slice(0, 100)} failed: ${err.message}`, { cause: err }));
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path: pathAndQuery,
          headers: body ? { ...headers, 'content-length': body.length } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  return {
    get: (pathAndQuery: string, headers?: http.OutgoingHttpHeaders) => request('GET', pathAndQuery, headers),
    post: (pathAndQuery: string, body: Buffer, headers?: http.OutgoingHttpHeaders) =>
      request('POST', pathAndQuery, headers, body),
    close: () => agent.destroy(),
  };
}

export type HttpClient = ReturnType<typeof createHttpClient>;

// The benchmark peer: node-oidc-provider 8.8.1 configured as the contract in
// bench/peers/oidc-provider/README.md describes (one client, two JWT resources, rotating
// refresh tokens, PKCE S256), plus POST /bench/mint, which hands the bench authorization
// codes and refresh tokens without driving an interactive login per token.
//
// Usage: node server.js [--port 3001]   (port 0 picks a free port; the printed line tells it)

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';
// The provider's own in-memory adapter; its module-level store is replaced below.
import MemoryAdapter, { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';
import QuickLRU from 'quick-lru';

const HOST = '127.0.0.1';
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-0123456789-0123456789-0123456789';
const REDIRECT_URI = 'http://127.0.0.1/callback';
const ACCOUNT_ID = 'bench-user';
const RESOURCE_SCOPE = 'read';
const GRANTED_SCOPE = `openid offline_access ${RESOURCE_SCOPE}`;
const RESOURCE_SIGNING_ALGS = {
  'https://es256.bench.example/': 'ES256',
  'https://rs256.bench.example/': 'RS256',
};
const MINT_MAX = 20000;
const MINT_BODY_MAX_BYTES = 4096;

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// The adapter ships with an LRU of 1000 entries, so a mint of 20000 codes would evict most
// of them before the bench could exchange them. Same store type, room for a long run.
setStorage(new QuickLRU({ maxSize: 500000 }));

function parsePort(argv) {
  const at = argv.indexOf('--port');
  if (at === -1) return 3001;
  const port = Number(argv[at + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port needs an integer in 0..65535, got ${argv[at + 1]}`);
  }
  return port;
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, alg: 'RS256', use: 'sig', kid: 'bench-rs256' },
      { ...ec, alg: 'ES256', use: 'sig', kid: 'bench-es256' },
    ],
  };
}

async function getResourceServerInfo(ctx, resource, client) {
  const alg = RESOURCE_SIGNING_ALGS[resource];
  if (!alg || client.clientId !== CLIENT_ID) throw new errors.InvalidTarget();
  return {
    scope: RESOURCE_SCOPE,
    accessTokenFormat: 'jwt',
    accessTokenTTL: HOUR,
    jwt: { sign: { alg } },
  };
}

function configuration() {
  return {
    adapter: MemoryAdapter,
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
    }],
    jwks: signingKeys(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: async (ctx, sub) => (sub === ACCOUNT_ID
      ? { accountId: sub, claims: async () => ({ sub }) }
      : undefined),
    features: {
      // No login pages: codes come from /bench/mint instead.
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo,
        // The code and refresh requests carry no `resource`: the one granted applies, so
        // they return a JWT for it rather than an opaque token for the userinfo endpoint.
        useGrantedResource: async () => true,
      },
    },
    // pkce defaults already require S256 for every client.
    rotateRefreshToken: true,
    // Explicit TTLs (the defaults print a notice on first use). Codes live 15 minutes so a
    // minted batch outlasts a bench run; the provider's default is one minute.
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 15 * MINUTE,
      BackchannelAuthenticationRequest: 10 * MINUTE,
      ClientCredentials: HOUR,
      DeviceCode: 10 * MINUTE,
      Grant: 14 * DAY,
      IdToken: HOUR,
      Interaction: HOUR,
      RefreshToken: 14 * DAY,
      Session: 14 * DAY,
    },
  };
}

// What the consent step of an interactive login stores: one Grant per login.
async function saveGrant(provider, resource) {
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: CLIENT_ID });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(resource, RESOURCE_SCOPE);
  return grant.save();
}

// The fields the authorization endpoint puts on a code for a request with
// scope=openid offline_access read, one resource and an S256 challenge.
async function mintCode(provider, client, resource) {
  const codeVerifier = randomBytes(32).toString('base64url');
  const code = new provider.AuthorizationCode({
    accountId: ACCOUNT_ID,
    authTime: Math.floor(Date.now() / 1000),
    client,
    codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    codeChallengeMethod: 'S256',
    grantId: await saveGrant(provider, resource),
    redirectUri: REDIRECT_URI,
    resource,
    scope: GRANTED_SCOPE,
  });
  return { code: await code.save(), code_verifier: codeVerifier, redirect_uri: REDIRECT_URI };
}

// The refresh token the token endpoint stores when it exchanges such a code.
async function mintRefreshToken(provider, client, resource) {
  const refreshToken = new provider.RefreshToken({
    accountId: ACCOUNT_ID,
    authTime: Math.floor(Date.now() / 1000),
    client,
    grantId: await saveGrant(provider, resource),
    gty: 'authorization_code',
    resource,
    rotations: 0,
    scope: GRANTED_SCOPE,
  });
  return { refresh_token: await refreshToken.save() };
}

function isFrom127001(req) {
  const address = req.socket.remoteAddress;
  return address === '127.0.0.1' || address === '::ffff:127.0.0.1';
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

function parseMintRequest(text) {
  let request;
  try {
    request = JSON.parse(text);
  } catch {
    return { error: 'body is not JSON' };
  }
  const { kind, n, resource } = request ?? {};
  if (kind !== 'code' && kind !== 'refresh') return { error: 'kind must be "code" or "refresh"' };
  if (!Number.isInteger(n) || n < 1 || n > MINT_MAX) return { error: `n must be an integer in 1..=${MINT_MAX}` };
  if (!(resource in RESOURCE_SIGNING_ALGS)) return { error: 'unknown resource' };
  return { kind, n, resource };
}

async function handleMint(req, res, provider, client) {
  if (!isFrom127001(req)) return sendJson(res, 403, { error: 'mint is only served to 127.0.0.1' });
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
  let text;
  try {
    text = await readBody(req, MINT_BODY_MAX_BYTES);
  } catch {
    return sendJson(res, 413, { error: 'body too large' });
  }
  const request = parseMintRequest(text);
  if (request.error) return sendJson(res, 400, { error: request.error });
  const mintOne = request.kind === 'code' ? mintCode : mintRefreshToken;
  const items = [];
  for (let i = 0; i < request.n; i += 1) {
    items.push(await mintOne(provider, client, request.resource));
  }
  return sendJson(res, 200, { items });
}

async function main() {
  const server = createServer();
  // Connections of a bench sit idle between its phases; keep them open longer than the
  // 5 s default so a reused connection is not closed under the first request of a phase.
  server.keepAliveTimeout = 60000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(parsePort(process.argv.slice(2)), HOST, resolve);
  });
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;

  const provider = new Provider(issuer, configuration());
  provider.on('server_error', (ctx, err) => console.error('peer server_error:', err));
  const client = await provider.Client.find(CLIENT_ID);
  const handleOidc = provider.callback();

  server.on('request', (req, res) => {
    if (req.url === '/bench/mint') {
      handleMint(req, res, provider, client).catch((err) => {
        console.error('peer mint error:', err);
        if (!res.headersSent) sendJson(res, 500, { error: 'mint failed' });
      });
    } else {
      handleOidc(req, res);
    }
  });

  console.log(`peer listening on ${issuer}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// The demo page: auth0-spa-js against this Gatehouse, then the demo API.
// Tokens stay in memory; after a reload, silent authentication (a hidden
// iframe to this same server) finds the session again.
'use strict';

const $ = (id) => document.getElementById(id);
let client;
let config;

function show(id, visible) {
  $(id).hidden = !visible;
}

function fail(error) {
  $('error').textContent = String(error && error.message ? error.message : error);
  show('error', true);
}

function decodePayload(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function start() {
  config = await (await fetch('/demo/config.json')).json();
  client = await auth0.createAuth0Client({
    domain: location.origin,
    clientId: config.clientId,
    cacheLocation: 'memory',
    authorizationParams: {
      audience: config.audience,
      scope: config.scope,
      redirect_uri: location.origin + '/demo',
    },
  });
  const params = new URLSearchParams(location.search);
  if (params.has('code') && params.has('state')) {
    await client.handleRedirectCallback();
    history.replaceState({}, '', '/demo');
  } else if (params.has('error')) {
    fail(params.get('error') + ': ' + (params.get('error_description') || ''));
    history.replaceState({}, '', '/demo');
  } else {
    try {
      await client.getTokenSilently();
    } catch {
      // No session yet: the page offers to log in.
    }
  }
  await render();
}

async function render() {
  const signedIn = await client.isAuthenticated();
  show('signed-out', !signedIn);
  show('signed-in', signedIn);
  if (!signedIn) return;
  const user = await client.getUser();
  $('who').textContent = user.email || user.sub;
  const token = await client.getTokenSilently();
  const claims = decodePayload(token);
  $('claims').textContent = JSON.stringify(
    { sub: claims.sub, aud: claims.aud, scope: claims.scope, permissions: claims.permissions },
    null,
    2,
  );
  $('command').textContent =
    `gatehouse explain ${token} --data-dir ${config.dataDir} --public-url ${location.origin}`;
}

async function readMeasurements() {
  const token = await client.getTokenSilently();
  const response = await fetch('/demo/api/measurements', {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = await response.json();
  const status = $('status');
  if (response.ok) {
    status.className = 'ok';
    status.textContent = `${response.status}: the API accepted the token.`;
    show('why', false);
  } else {
    status.className = 'refused';
    status.textContent =
      `${response.status} ${body.error}: ${body.error_description}. ` +
      (response.headers.get('WWW-Authenticate') || '');
    await explain(token);
  }
  $('result').textContent = JSON.stringify(body, null, 2);
  show('result', true);
}

async function explain(token) {
  const response = await fetch('/demo/api/explain', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = await response.json();
  $('explanation').textContent = response.ok ? body.text : body.error_description;
  show('why', true);
}

function logIn(email) {
  return client.loginWithRedirect({ authorizationParams: { login_hint: email } });
}

function bind(id, action) {
  $(id).addEventListener('click', () => action().catch(fail));
}

document.addEventListener('DOMContentLoaded', () => {
  bind('login-alice', () => logIn('alice@example.com'));
  bind('login-bob', () => logIn('bob@example.com'));
  bind('logout', () => client.logout({ logoutParams: { returnTo: location.origin + '/demo' } }));
  bind('read', readMeasurements);
  start().catch(fail);
});

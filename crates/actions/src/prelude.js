// The host side of an Action, evaluated in every fresh context before the
// Action's own code. It builds Auth0's `api` object for the trigger, records
// every call on it as `{method, args}`, captures `console`, and offers a
// `require` that knows no module. Gatehouse applies the record once the
// handler has settled; nothing here touches the outside world.
(function (global) {
  "use strict";
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const calls = [];
  const logs = [];
  const MAX_LOG_LINES = 100;
  // One past the host's MAX_API_CALLS: enough for it to see the limit was passed.
  const MAX_RECORDED_CALLS = 1001;
  // Captured now: the Action may replace Array.prototype.push afterwards.
  const append = Function.prototype.call.bind(Array.prototype.push);

  // The methods of `api` per trigger (Auth0's API objects). Unsupported ones
  // are recorded too: Gatehouse fails the execution naming them.
  const API_SHAPES = {
    "post-login": {
      accessToken: ["setCustomClaim", "addScope", "removeScope"],
      idToken: ["setCustomClaim"],
      access: ["deny"],
      user: ["setAppMetadata", "setUserMetadata"],
      redirect: ["sendUserTo", "encodeToken", "validateToken"],
      multifactor: ["enable"],
      authentication: [
        "challengeWith",
        "challengeWithAny",
        "enrollWith",
        "enrollWithAny",
        "recordMethod",
        "setPrimaryUser",
      ],
      session: ["setExpiresAt", "setIdleExpiresAt", "revoke", "setMetadata", "deleteMetadata", "evictMetadata"],
      samlResponse: ["setAttribute", "setAudience", "setIssuer", "setRecipient", "setLifetimeInSeconds"],
      refreshToken: ["revoke", "setExpiresAt", "setIdleExpiresAt", "setMetadata", "deleteMetadata"],
    },
    "credentials-exchange": {
      accessToken: ["setCustomClaim"],
      access: ["deny"],
    },
    "pre-user-registration": {
      access: ["deny"],
      user: ["setAppMetadata", "setUserMetadata"],
      validation: ["error"],
    },
  };

  function copyArgs(args) {
    const out = [];
    for (let i = 0; i < args.length; i++) out.push(args[i] === undefined ? null : args[i]);
    return out;
  }

  function buildApi(trigger) {
    const shape = API_SHAPES[trigger];
    if (!shape) throw new Error("unknown trigger " + trigger);
    const api = {};
    for (const group of Object.keys(shape)) {
      const target = {};
      for (const name of shape[group]) {
        const method = group + "." + name;
        target[name] = function () {
          // Snapshot now: a value changed after the call must not change what was set.
          if (calls.length >= MAX_RECORDED_CALLS) return api;
          append(calls, parse(stringify({ method: method, args: copyArgs(arguments) }) || "null"));
          return api;
        };
      }
      api[group] = Object.freeze(target);
    }
    // Auth0's cache is best effort: a miss is always a valid answer, and a
    // value kept between executions would be state shared between them.
    api.cache = Object.freeze({
      get: function () { return undefined; },
      set: function () { return { type: "success", record: undefined }; },
      delete: function () { return { type: "success" }; },
    });
    return Object.freeze(api);
  }

  function format(value) {
    if (typeof value === "string") return value;
    try {
      const s = stringify(value);
      return s === undefined ? String(value) : s;
    } catch (e) {
      return String(value);
    }
  }

  function logger(level) {
    return function () {
      if (logs.length >= MAX_LOG_LINES) return;
      const parts = [];
      for (let i = 0; i < arguments.length; i++) append(parts, format(arguments[i]));
      // Not cut here: the host cuts it after removing the secrets, so no
      // part of a secret is left at the cut.
      const line = parts.join(" ");
      append(logs, { level: level, message: line });
    };
  }

  const console = Object.freeze({
    log: logger("log"),
    info: logger("info"),
    warn: logger("warn"),
    error: logger("error"),
    debug: logger("debug"),
  });

  function require(name) {
    throw new Error("Cannot find module '" + String(name) + "': Gatehouse Actions run without npm modules or Node built-ins");
  }

  // Starts the handler: `moduleFn` is the Action's code wrapped as a CommonJS
  // module function. Returns a promise of the handler's completion.
  function start(trigger, handlerName, eventJson, secretsJson, moduleFn) {
    const module = { exports: {} };
    moduleFn.call(module.exports, module.exports, require, module, "action.js", "/");
    const handler = module.exports && module.exports[handlerName];
    if (typeof handler !== "function") {
      throw new Error("The Action does not export " + handlerName + " for the " + trigger + " trigger");
    }
    const event = parse(eventJson);
    event.secrets = parse(secretsJson);
    return Promise.resolve(handler(event, buildApi(trigger)));
  }

  function result() {
    return stringify({ calls: calls, logs: logs });
  }

  Object.defineProperty(global, "console", { value: console, writable: false, configurable: false });
  Object.defineProperty(global, "__gatehouse", {
    value: Object.freeze({ start: start, result: result }),
    writable: false,
    configurable: false,
  });
  // Node globals an Action might reach for; none gives access to the host.
  global.process = Object.freeze({
    env: Object.freeze({}),
    exit: function () { throw new Error("process.exit() is not available in an Action"); },
  });
})(globalThis);

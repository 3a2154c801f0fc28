// The playground's own script: GraphiQL with the API's example tabs, the
// Explorer plugin, a token field, and subscriptions over WebSocket. Served from this origin like every
// other script of the page (its Content-Security-Policy allows no inline
// script). No build step: plain ES2017 and React.createElement.
(function () {
  'use strict';

  var h = React.createElement;
  var root = document.getElementById('playground');
  var endpoint = new URL(root.getAttribute('data-endpoint'), window.location.href).toString();
  var tabs = JSON.parse(document.getElementById('playground-ejemplos').textContent);
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  // The token lives in sessionStorage: it survives reloads of this browser
  // tab and dies with it, and is never written where another tab or a
  // later visit would read it (GraphiQL's own header persistence, in
  // localStorage, stays off).
  var STORAGE_KEY = 'factoring.playground.token';

  function storedToken() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  function storeToken(token) {
    try {
      if (token) {
        window.sessionStorage.setItem(STORAGE_KEY, token);
      } else {
        window.sessionStorage.removeItem(STORAGE_KEY);
      }
    } catch (e) {
      // Storage unavailable (a private window's policy): the token lasts
      // until the page is reloaded.
    }
  }

  // normalize accepts a bare JWT or a whole "Bearer …" value.
  function normalize(value) {
    return (value || '').trim().replace(/^bearer\s+/i, '').trim();
  }

  // claims decodes a JWT's payload to show whose it is. Display only: the
  // server verifies every token.
  function claims(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var json = decodeURIComponent(Array.prototype.map.call(window.atob(part), function (c) {
        return '%' + ('00' + c.charCodeAt(0).toString(16)).slice(-2);
      }).join(''));
      return JSON.parse(json);
    } catch (e) {
      return null;
    }
  }

  function describe(token) {
    if (!token) {
      return 'Sin token: con autenticación, /graphql responde 401 (la demo de make run no la usa).';
    }
    var c = claims(token);
    if (!c) {
      return 'Token en uso (no es un JWT legible).';
    }
    var parts = ['Token de ' + (c.sub || '¿?')];
    if (Array.isArray(c.roles) && c.roles.length) {
      parts.push('roles ' + c.roles.join(', '));
    }
    if (typeof c.exp === 'number') {
      var exp = new Date(c.exp * 1000);
      parts.push((exp < new Date() ? 'venció ' : 'vence ') + exp.toLocaleString());
    }
    return parts.join(' · ');
  }

  // authorizationIn returns the Authorization header in headers, whatever
  // its case.
  function authorizationIn(headers) {
    for (var name in headers || {}) {
      if (Object.prototype.hasOwnProperty.call(headers, name) && name.toLowerCase() === 'authorization') {
        return String(headers[name]);
      }
    }
    return null;
  }

  function App() {
    var tokenState = React.useState(storedToken);
    var token = tokenState[0];
    var setToken = tokenState[1];
    var draftState = React.useState(token);
    var draft = draftState[0];
    var setDraft = draftState[1];

    var apply = React.useCallback(function (value) {
      var t = normalize(value);
      storeToken(t);
      setToken(t);
      setDraft(t);
    }, []);

    // A new fetcher whenever the token changes: GraphiQL then fetches the
    // schema again, with the token, so the docs and autocomplete follow it.
    // (GraphiQL's first introspection runs before its Headers tab exists,
    // which is why a token kept only there left the docs empty.)
    // Subscriptions go over a WebSocket to the same /graphql
    // (graphql-transport-ws, the graphql-ws client), which sends the token
    // in connection_init: a browser cannot set headers on a WebSocket.
    var wsClient = React.useMemo(function () {
      return graphqlWs.createClient({
        url: endpoint.replace(/^http/, 'ws'),
        lazy: true,
        connectionParams: function () {
          return token ? { Authorization: 'Bearer ' + token } : {};
        },
      });
    }, [token]);
    React.useEffect(function () {
      return function () { wsClient.dispose(); };
    }, [wsClient]);

    var fetcher = React.useMemo(function () {
      var base = GraphiQL.createFetcher({ url: endpoint, wsClient: wsClient });
      return function (params, opts) {
        var own = (opts && opts.headers) || {};
        var headers = Object.assign({}, own);
        var typed = authorizationIn(own);
        if (typed === null) {
          if (token) {
            headers.Authorization = 'Bearer ' + token;
          }
        } else if (normalize(typed) && normalize(typed) !== token) {
          // A token typed in the Headers tab becomes the page's token.
          window.setTimeout(function () { apply(typed); }, 0);
        }
        return base(params, Object.assign({}, opts, { headers: headers }));
      };
    }, [token, apply, wsClient]);

    return h('div', { className: 'playground' },
      h('form', {
        className: 'playground-token',
        onSubmit: function (e) { e.preventDefault(); apply(draft); },
      },
        h('label', { htmlFor: 'playground-token' }, 'Token'),
        h('input', {
          id: 'playground-token',
          name: 'token',
          type: 'password',
          autoComplete: 'off',
          spellCheck: false,
          placeholder: 'pegue un JWT (bin/factoring token --sub ana --roles lector) y presione Enter',
          value: draft,
          onChange: function (e) { setDraft(e.target.value); },
        }),
        h('button', { type: 'submit' }, 'Usar'),
        token ? h('button', { type: 'button', onClick: function () { apply(''); } }, 'Quitar') : null,
        h('span', { className: 'playground-token-estado', role: 'status' }, describe(token))),
      h('div', { className: 'playground-graphiql' },
        h(GraphiQL, {
          fetcher: fetcher,
          defaultTabs: tabs,
          plugins: [explorer],
          inputValueDeprecation: true,
          // Headers (a token among them) are never written to
          // localStorage; this also hides GraphiQL's setting for it.
          shouldPersistHeaders: false,
        })));
  }

  ReactDOM.createRoot(root).render(h(App));
})();

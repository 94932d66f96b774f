import UnderstudyCore

/// The scripts of the host pages (spec 16–18), served by Understudy itself: `all.js`, which a
/// Connect app's page loads and which defines `AP`; the bridge injected into a Forge Custom UI
/// before the app's own scripts, which defines `window.__bridge`; and the host page's side of both.
/// They talk over `postMessage`, each side checking where a message comes from, and the host
/// page relays calls to Understudy with the signed-in user's session.
enum HostScripts {
    static let allJSPath = "/atlassian-connect/all.js"
    static let bridgePath = "/understudy-host/bridge.js"
    static let hostPath = "/understudy-host/host.js"

    /// What a Connect app's page loads from `{xdm_e}/atlassian-connect/all.js`.
    static let allJS = #"""
        /* Understudy's all.js: the Connect JavaScript API (AP) for an app page inside Understudy's host page. */
        (function () {
          "use strict";
          if (window.AP && window.AP.understudy) { return; }
          // The host is the origin of xdm_e, as Jira puts it on the iframe's URL; else where this script came from.
          var host = null;
          try { var given = new URLSearchParams(window.location.search).get("xdm_e"); if (given) { host = new URL(given).origin; } } catch (e) { host = null; }
          if (!host) { try { host = new URL(document.currentScript.src).origin; } catch (e) { host = null; } }
          \#(channel(idPrefix: "ap", outside: "AP (Understudy's all.js): this page is not inside Understudy's host page; open it at /plugins/servlet/ac/{appKey}/{moduleKey}."))
          function withCallback(promise, callback) {
            if (typeof callback === "function") { promise.then(function (value) { callback(value); }, function () {}); }
            return promise;
          }
          function formEncode(object) {
            return Object.keys(object).map(function (key) { return encodeURIComponent(key) + "=" + encodeURIComponent(object[key]); }).join("&");
          }
          function xhrOf(answer) {
            var headers = answer.headers || {};
            return {
              readyState: 4, status: answer.status, statusText: answer.statusText, responseText: answer.body,
              getResponseHeader: function (name) {
                var key = String(name).toLowerCase();
                return Object.prototype.hasOwnProperty.call(headers, key) ? headers[key] : null;
              },
              getAllResponseHeaders: function () {
                return Object.keys(headers).map(function (key) { return key + ": " + headers[key]; }).join("\r\n");
              }
            };
          }
          var AP = {
            understudy: true,
            request: function (urlOrOptions, moreOptions) {
              var options = typeof urlOrOptions === "string" ? Object.assign({}, moreOptions || {}, { url: urlOrOptions }) : Object.assign({}, urlOrOptions || {});
              var type = String(options.type || "GET").toUpperCase();
              var url = String(options.url || "");
              var contentType = options.contentType || "application/x-www-form-urlencoded";
              var data = options.data;
              if (data !== undefined && data !== null && typeof data !== "string") {
                if (type === "GET" || type === "HEAD" || type === "DELETE") {
                  url += (url.indexOf("?") < 0 ? "?" : "&") + formEncode(data);
                  data = null;
                } else {
                  data = /json/i.test(contentType) ? JSON.stringify(data) : formEncode(data);
                }
              }
              var promise = call("request", { url: url, type: type, data: data === undefined ? null : data, contentType: contentType, headers: options.headers || {} })
                .then(function (answer) {
                  var xhr = xhrOf(answer);
                  if (answer.status >= 200 && answer.status < 300) {
                    if (typeof options.success === "function") { options.success(answer.body, answer.statusText, xhr); }
                    return { body: answer.body, xhr: xhr };
                  }
                  if (typeof options.error === "function") { options.error(xhr, "error", answer.statusText); }
                  throw { err: answer.statusText, xhr: xhr };
                }, function (error) {
                  var xhr = xhrOf({ status: 0, statusText: "error", body: "", headers: {} });
                  if (typeof options.error === "function") { options.error(xhr, "error", error.message); }
                  throw { err: error.message, xhr: xhr };
                });
              if (typeof options.error === "function") { promise.catch(function () {}); }
              return promise;
            },
            context: {
              getToken: function (callback) { return withCallback(call("getToken"), callback); },
              getContext: function (callback) { return withCallback(call("getContext"), callback); }
            },
            user: {
              getCurrentUser: function (callback) { return withCallback(call("getCurrentUser"), callback); }
            },
            resize: function (width, height) { call("resize", { width: width === undefined ? null : String(width), height: height === undefined ? null : String(height) }); },
            sizeToParent: function () { call("sizeToParent"); },
            navigator: {
              go: function (target, context) { call("navigator.go", { target: String(target), context: context || {} }); }
            }
          };
          window.AP = AP;
        })();
        """#

    /// Injected into a Forge Custom UI's `index.html` before the app's own scripts: what
    /// `@forge/bridge` finds as `window.__bridge`.
    static let bridgeJS = #"""
        /* Understudy's Custom UI bridge: window.__bridge for @forge/bridge, inside Understudy's host page. */
        (function () {
          "use strict";
          if (window.__bridge && window.__bridge.understudy) { return; }
          var host = null;
          try { host = new URL(document.currentScript.src).origin; } catch (e) { host = null; }
          \#(channel(idPrefix: "bridge", outside: "Unable to establish a connection with the Custom UI bridge: open this page through Understudy's host page, /forge/apps/{appId}/{moduleKey}."))
          window.__bridge = {
            understudy: true,
            callBridge: function (name, payload) { return call(String(name), payload); }
          };
        })();
        """#

    /// What all.js and the bridge share: `call(name, payload)`, a Promise of the host page's reply,
    /// posted only to `host` (a variable the script sets first), and replies taken only from the
    /// parent frame at that origin. `outside` is the error when there is no such host page.
    private static func channel(idPrefix: String, outside: String) -> String {
        #"""
        var pending = {};
          var counter = 0;
          window.addEventListener("message", function (event) {
            if (event.source !== window.parent || event.origin !== host) { return; }
            var data = event.data;
            if (!data || data.understudy !== "reply" || typeof data.id !== "string" || !Object.prototype.hasOwnProperty.call(pending, data.id)) { return; }
            var entry = pending[data.id];
            delete pending[data.id];
            if (typeof data.error === "string") { entry.reject(new Error(data.error)); } else { entry.resolve(data.result); }
          });
          function call(name, payload) {
            return new Promise(function (resolve, reject) {
              if (!host || window.parent === window) {
                reject(new Error(\#(JSONValue.string(outside).jsonText)));
                return;
              }
              counter += 1;
              var id = "\#(idPrefix)-" + counter + "-" + Math.random().toString(36).slice(2);
              pending[id] = { resolve: resolve, reject: reject };
              window.parent.postMessage({ understudy: "call", id: id, name: name, payload: payload === undefined ? null : payload }, host);
            });
          }
        """#
    }

    /// The host page's side: answers the module's frame, and nobody else's.
    static let hostJS = #"""
        /* Understudy's host page: answers calls from the app's frame, relaying Jira calls as the signed-in user. */
        (function () {
          "use strict";
          var frame = document.getElementById("understudy-app-frame");
          var configElement = document.getElementById("understudy-host-config");
          if (!frame || !configElement) { return; }
          var config = JSON.parse(configElement.textContent);
          var navigations = document.getElementById("understudy-navigations");
          function relay(path, body) {
            return fetch(config.relay + path, {
              method: "POST", credentials: "same-origin",
              headers: { "Content-Type": "application/json" }, body: JSON.stringify(body === null ? {} : body)
            }).then(function (response) { return response.json(); });
          }
          function length(value) { return /^[0-9]+$/.test(value) ? value + "px" : value; }
          var calls = {
            connect: {
              "request": function (payload) { return relay("/request", payload); },
              "getToken": function () {
                return relay("/token", {}).then(function (answer) {
                  if (typeof answer.token !== "string") { throw new Error(answer.explanation || "No token: the session may have ended."); }
                  return answer.token;
                });
              },
              "getContext": function () { return config.context; },
              "getCurrentUser": function () { return { atlassianAccountId: config.accountId }; },
              "resize": function (payload) {
                if (payload && payload.width) { frame.style.width = length(payload.width); }
                if (payload && payload.height) { frame.style.height = length(payload.height); }
                return null;
              },
              "sizeToParent": function () {
                frame.style.width = "100%";
                frame.style.height = Math.max(150, window.innerHeight - frame.getBoundingClientRect().top - 16) + "px";
                return null;
              },
              "navigator.go": function (payload) {
                var item = document.createElement("li");
                item.textContent = "AP.navigator.go(" + JSON.stringify(payload.target) + ", " + JSON.stringify(payload.context) + ")";
                if (navigations) { navigations.appendChild(item); }
                return null;
              }
            },
            forge: {
              "fetchProduct": function (payload) { return relay("/fetch", payload); },
              "getContext": function () { return config.context; }
            }
          };
          window.addEventListener("message", function (event) {
            // Only the module's own frame, from the app's origin (a Custom UI's sandboxed frame has none: "null").
            if (event.source !== frame.contentWindow || event.origin !== config.appOrigin) { return; }
            var data = event.data;
            if (!data || data.understudy !== "call" || typeof data.id !== "string" || typeof data.name !== "string") { return; }
            var table = calls[config.kind];
            var target = config.kind === "forge" ? "*" : config.appOrigin;
            function reply(message) {
              message.understudy = "reply";
              message.id = data.id;
              frame.contentWindow.postMessage(message, target);
            }
            if (!Object.prototype.hasOwnProperty.call(table, data.name)) {
              reply({ error: (config.kind === "forge" ? "The bridge call " : "AP call ") + JSON.stringify(data.name) + " is not supported by Understudy's host page." });
              return;
            }
            Promise.resolve().then(function () { return table[data.name](data.payload); }).then(
              function (result) { reply({ result: result === undefined ? null : result }); },
              function (error) { reply({ error: String((error && error.message) || error) }); });
          });
        })();
        """#
}

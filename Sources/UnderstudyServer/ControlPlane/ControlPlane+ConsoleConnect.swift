import UnderstudyCore

/// The console's Connect installs (spec 13): each app's installation and state with an uninstall
/// button, and a form that installs from a descriptor URL and shows every lifecycle call made.
extension ControlPlane {
    static func connectInstallSection(site: Site) -> String {
        let installed = site.apps.filter { $0.installation != nil }.map { app -> String in
            let installation = app.installation
            let state: String
            switch installation?.state {
            case .installed?, nil: state = "installed"
            case .uninstalled?: state = "uninstalled"
            case .incomplete(let reason)?: state = "incomplete: \(reason)"
            }
            let button =
                installation?.state == .uninstalled
                ? ""
                : "<button class=\"uninstall\" data-key=\"\(escape(app.key))\">Uninstall</button>"
            return """
                <tr><td><code>\(escape(app.key))</code></td><td><code>\(escape(installation?.baseUrl ?? ""))</code>
                <div class="muted">\(escape(installation?.descriptorUrl ?? ""))</div></td>
                <td>\(escape(installation?.signing.rawValue ?? ""))</td><td class="state">\(escape(state))</td>
                <td>\(button)</td></tr>
                """
        }.joined(separator: "\n")
        let tampers = ConnectLifecycleTamper.allCases.map {
            "<option value=\"\(escape($0.rawValue))\">\(escape($0.rawValue)): \(escape($0.summary))</option>"
        }.joined()
        return """
            <h2>Connect installs</h2>
            <form id="install"><label>Descriptor URL <input name="descriptorUrl" type="url" size="60" required
            placeholder="http://localhost:3000/atlassian-connect.json"></label>
            <label>Signing <select name="signing"><option value="signed">signed (RS256, as Jira Cloud)</option>
            <option value="legacy">legacy (unsigned first, then HS256)</option></select></label>
            <label>Tamper <select name="tamper"><option value="">no: sign correctly</option>\(tampers)</select></label>
            <button>Install</button></form>
            <div id="install-result"></div>
            <table id="installations"><tr><th>key</th><th>baseUrl (descriptor)</th><th>signing</th><th>state</th><th></th></tr>
            \(installed.isEmpty ? "<tr><td colspan=\"5\" class=\"muted\">none installed from a descriptor yet</td></tr>" : installed)</table>
            """
    }

    static let connectInstallScript = """
        function showResult(result, status) {
          const target = document.getElementById('install-result');
          target.replaceChildren();
          const summary = document.createElement('p');
          summary.className = status >= 400 || result.appRefused === false ? 'refused' : '';
          summary.textContent = (result.outcome || ('refused (' + status + ')')) + (result.key ? ' ' + result.key : '')
            + (result.problem ? ': ' + result.problem : '') + (result.errorMessages ? ': ' + result.errorMessages.join(' ') : '');
          target.append(summary);
          if (!result.calls || result.calls.length === 0) return;
          const table = document.createElement('table');
          table.className = 'calls';
          const head = table.insertRow();
          for (const name of ['event', 'URL', 'status', 'ms', 'signed with', 'explanation']) {
            const th = document.createElement('th'); th.textContent = name; head.append(th);
          }
          for (const call of result.calls) {
            const row = table.insertRow();
            if (call.explanation) row.className = 'refused';
            for (const value of [call.event, call.url, call.status === null ? 'no answer' : String(call.status),
                                 call.durationMs, call.authorization, call.explanation || call.body || '']) {
              cell(row, value);
            }
          }
          target.append(table);
        }
        document.getElementById('install').addEventListener('submit', async (event) => {
          event.preventDefault();
          const form = new FormData(event.target);
          const order = {descriptorUrl: form.get('descriptorUrl'), signing: form.get('signing')};
          if (form.get('tamper')) order.tamper = form.get('tamper');
          document.getElementById('install-result').textContent = 'installing…';
          const answer = await fetch('/_understudy/connect/installations', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(order)});
          showResult(await answer.json(), answer.status);
        });
        for (const button of document.querySelectorAll('button.uninstall')) {
          button.addEventListener('click', async () => {
            const answer = await fetch('/_understudy/connect/installations/' + encodeURIComponent(button.dataset.key),
              {method: 'DELETE', credentials: 'same-origin'});
            showResult(await answer.json(), answer.status);
            if (answer.ok) { button.closest('tr').querySelector('.state').textContent = 'uninstalled'; button.remove(); }
          });
        }
        """
}

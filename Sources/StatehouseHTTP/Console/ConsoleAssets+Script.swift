extension ConsoleAssets {
    /// The console's script: hash routes (`#/ns/N/agent/A/key/K`), each page built from `/v1` calls; no framework.
    static let script = #"""
        "use strict";
        const main = document.getElementById("main");
        const crumbs = document.getElementById("crumbs");
        const errorBox = document.getElementById("error");
        const BIG = 4000; // characters of pretty JSON shown before "Show all"
        let live = null;  // the open live stream ({ close() }), closed on navigation
        // The token of a daemon with --auth required: kept for this tab only (sessionStorage), sent as a header.
        const TOKEN_KEY = "statehouse-token";
        const signout = document.getElementById("signout");
        function token() { return sessionStorage.getItem(TOKEN_KEY); }
        function authHeaders(extra) {
          const headers = Object.assign({}, extra);
          if (token()) headers.authorization = "Bearer " + token();
          return headers;
        }
        signout.hidden = !token();
        signout.addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); signout.hidden = true; route(); });
        class Unauthorized extends Error {}

        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          for (const [name, value] of Object.entries(attrs || {})) {
            if (name === "onclick" || name === "onchange" || name === "onsubmit") node.addEventListener(name.slice(2), value);
            else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
          }
          for (const child of children.flat()) {
            if (child === null || child === undefined) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        const enc = encodeURIComponent;
        function setMain(...children) {
          main.replaceChildren(...children.flat().filter(child => child !== null && child !== undefined));
        }
        function showError(message) { errorBox.textContent = message; errorBox.hidden = false; }
        function clearError() { errorBox.hidden = true; errorBox.textContent = ""; }

        async function api(path) {
          let response;
          try { response = await fetch(path, { headers: authHeaders({ accept: "application/json" }) }); }
          catch (e) { throw new Error("The daemon did not answer (" + e.message + ")."); }
          const text = await response.text();
          if (!response.ok) {
            let detail = response.status + " " + response.statusText;
            try { const problem = JSON.parse(text); detail = problem.detail || problem.title || detail; } catch (e) {}
            if (response.status === 401) throw new Unauthorized(detail);
            throw new Error(detail);
          }
          return text.length ? JSON.parse(text) : null;
        }

        function when(rfc3339) {
          if (!rfc3339) return "–";
          const date = new Date(rfc3339);
          return isNaN(date) ? rfc3339 : date.toLocaleString();
        }
        function timeCell(rfc3339, commitTs) {
          return el("span", { title: rfc3339 || "" }, when(rfc3339),
            commitTs !== undefined ? el("span", { class: "muted mono" }, "  @", String(commitTs)) : null);
        }

        // JSON: pretty, with objects and arrays folded under <details>, long values cut with a way to expand.
        function jsonNode(value, depth) {
          if (value === null) return el("span", { class: "b" }, "null");
          if (typeof value === "string") return el("span", { class: "s" }, JSON.stringify(value));
          if (typeof value === "number") return el("span", { class: "n" }, String(value));
          if (typeof value === "boolean") return el("span", { class: "b" }, String(value));
          const isArray = Array.isArray(value);
          const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
          const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
          if (entries.length === 0) return el("span", {}, open + close);
          const body = el("span", { class: "indent" });
          entries.forEach(([k, v], i) => {
            body.append(el("span", { class: "line" }, isArray ? null : el("span", { class: "k" }, JSON.stringify(k) + ": "),
              jsonNode(v, depth + 1), i < entries.length - 1 ? "," : ""), document.createElement("br"));
          });
          const details = el("details", depth < 2 ? { open: true } : {},
            el("summary", {}, open, el("span", { class: "muted" }, depth < 2 ? "" : ` ${entries.length} ${isArray ? "items" : "keys"} `)),
            body);
          return el("span", {}, details, close);
        }
        function jsonView(value) {
          const pre = el("pre", { class: "json" });
          const pretty = JSON.stringify(value, null, 2);
          if (pretty !== undefined && pretty.length > BIG) {
            pre.append(el("span", {}, pretty.slice(0, BIG) + " …"));
            const button = el("button", { type: "button", onclick: () => { pre.replaceChildren(jsonNode(value, 0)); button.remove(); } },
              `Show all (${pretty.length.toLocaleString()} characters)`);
            return el("div", {}, pre, button);
          }
          pre.append(jsonNode(value, 0));
          return pre;
        }

        function setCrumbs(parts) {
          crumbs.replaceChildren();
          parts.forEach(([label, href], i) => {
            if (i > 0) crumbs.append(el("span", { class: "sep" }, "/"));
            crumbs.append(href ? el("a", { href }, label) : el("span", {}, label));
          });
        }

        async function namespacesPage() {
          setCrumbs([["namespaces"]]);
          const page = await api("/v1/namespaces?limit=1000");
          setMain(el("h1", {}, "Namespaces"),
            page.items.length === 0 ? el("p", { class: "muted" }, "No namespace has a commit yet.") :
            el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Namespace"), el("th", {}, "Last commit"), el("th", {}, "Head hash"))),
              el("tbody", {}, page.items.map(h => el("tr", {},
                el("td", {}, el("a", { href: `#/ns/${enc(h.namespace)}` }, h.namespace)),
                el("td", {}, timeCell(h.committed_at, h.commit_ts)),
                el("td", { class: "mono" }, h.hash.slice(0, 16) + "…"))))));
        }

        function verifyPanel(ns) {
          const result = el("div", { id: "verify-result", "aria-live": "polite" });
          const button = el("button", { type: "button", class: "primary", id: "verify", onclick: async () => {
            button.disabled = true; result.replaceChildren(el("span", { class: "muted" }, "Verifying…"));
            try {
              const [report, head] = await Promise.all([api(`/v1/namespaces/${enc(ns)}/verify`), api(`/v1/namespaces/${enc(ns)}/tree-head`)]);
              result.replaceChildren(el("div", { class: "card" },
                report.ok ? el("span", { class: "ok" }, `Verified: ${report.events_checked} events, chain and tree intact.`)
                          : el("span", { class: "bad" }, `Verification failed at commit ${report.first_bad_commit_ts}: ${report.reason}`),
                el("div", { class: "mono" }, `head commit_ts ${report.head_commit_ts}  hash ${report.head_hash}`),
                el("div", { class: "mono" }, `signed tree head: size ${head.tree_size}  root ${head.root_hash}  key ${head.key_id}`)));
            } catch (e) { result.replaceChildren(el("span", { class: "bad" }, e.message)); }
            button.disabled = false;
          } }, "Verify");
          return el("div", { class: "toolbar" }, button, result);
        }

        function searchForm(ns, query) {
          const input = el("input", { type: "search", id: "search", name: "q", "aria-label": "Search this namespace",
            placeholder: "Search state, events and commits", value: query || "" });
          return el("form", { class: "toolbar", role: "search", onsubmit: event => {
            event.preventDefault();
            if (input.value.trim()) location.hash = `#/ns/${enc(ns)}/search/${enc(input.value.trim())}`;
          } }, input, el("button", { type: "submit" }, "Search"));
        }
        // A snippet marks matches with « and »: shown as <mark>, built from text nodes (never as HTML).
        function snippet(text) {
          const span = el("span", {});
          text.split(/(«[^»]*»)/).forEach(part => {
            span.append(part.startsWith("«") && part.endsWith("»") ? el("mark", {}, part.slice(1, -1)) : part);
          });
          return span;
        }
        async function searchPage(ns, query) {
          setCrumbs([["namespaces", "#/"], [ns, `#/ns/${enc(ns)}`], ["search"]]);
          const page = await api(`/v1/namespaces/${enc(ns)}/search?q=${enc(query)}&limit=50`);
          setMain(el("h1", {}, `Search in ${ns}`), searchForm(ns, query),
            page.items.length === 0 ? el("p", { class: "muted" }, "Nothing matches.") : null,
            page.items.map(hit => el("div", { class: "card hit" },
              el("div", {}, el("span", { class: "tag" }, hit.kind), "  ",
                hit.kind === "state" ? el("a", { href: `#/ns/${enc(ns)}/agent/${enc(hit.agent_id)}/key/${enc(hit.key)}` }, `${hit.agent_id} / ${hit.key}`)
                  : hit.agent_id ? el("a", { href: `#/ns/${enc(ns)}/agent/${enc(hit.agent_id)}` }, hit.agent_id + (hit.type ? ` · ${hit.type}` : ""))
                  : el("span", {}, `commit #${hit.commit_ts}` + (hit.actor ? ` by ${hit.actor}` : "")),
                "  ", timeCell(hit.committed_at, hit.commit_ts)),
              el("div", { class: "mono" }, snippet(hit.snippet)))));
        }

        async function agentsPage(ns) {
          setCrumbs([["namespaces", "#/"], [ns]]);
          const [head, page] = await Promise.all([api(`/v1/namespaces/${enc(ns)}`), api(`/v1/namespaces/${enc(ns)}/agents?limit=1000`)]);
          setMain(el("h1", {}, `Namespace ${ns}`),
            el("p", { class: "muted" }, `Head: commit_ts ${head.commit_ts}, `, timeCell(head.committed_at)),
            verifyPanel(ns),
            searchForm(ns, ""),
            el("h2", {}, "Agents"),
            el("table", {}, el("thead", {}, el("tr", {}, ["Agent", "Name", "Status", "Keys", "Versions", "Last commit"].map(t => el("th", {}, t)))),
              el("tbody", {}, page.items.map(a => el("tr", {},
                el("td", {}, el("a", { href: `#/ns/${enc(ns)}/agent/${enc(a.agent_id)}` }, a.agent_id)),
                el("td", {}, a.display_name || "–"), el("td", {}, a.status),
                el("td", {}, String(a.key_count)), el("td", {}, String(a.version_count)),
                el("td", {}, timeCell(a.updated_at)))))),
            page.next_cursor ? el("p", { class: "muted" }, "Showing the first 1,000 agents.") : null);
        }

        function operationLine(ns, op) {
          return el("div", { class: "op" }, el("span", { class: "tag" }, op.op), " ",
            el("a", { href: `#/ns/${enc(ns)}/agent/${enc(op.agent_id)}/key/${enc(op.key)}` }, op.key),
            el("span", { class: "muted" }, ` v${op.version}`));
        }
        function commitCard(ns, event, fresh) {
          const meta = event.metadata || {};
          return el("div", { class: fresh ? "card fresh" : "card", "data-commit-ts": event.commit_ts },
            el("div", {}, el("strong", {}, `#${event.commit_ts}`), "  ", timeCell(event.committed_at),
              meta.actor ? el("span", {}, "  by ", el("strong", {}, meta.actor)) : null),
            meta.reason ? el("div", { class: "muted" }, meta.reason) : null,
            event.operations.map(op => operationLine(ns, op)));
        }

        async function agentPage(ns, agent) {
          setCrumbs([["namespaces", "#/"], [ns, `#/ns/${enc(ns)}`], [agent]]);
          const base = `/v1/namespaces/${enc(ns)}`;
          const [record, head] = await Promise.all([api(`${base}/agents/${enc(agent)}`), api(base)]);
          const keys = el("div", { id: "keys" });
          const timeline = el("div", { id: "timeline" });
          setMain(
            el("h1", {}, `Agent ${agent}`, record.display_name ? el("span", { class: "muted" }, ` (${record.display_name})`) : null),
            el("p", { class: "muted" }, `status ${record.status} · ${record.key_count} keys · ${record.version_count} versions · updated `, timeCell(record.updated_at)),
            el("div", { class: "cols" },
              el("section", { "aria-label": "Keys" }, el("h2", {}, "Keys"), keys),
              el("section", { "aria-label": "Timeline" }, el("h2", {}, "Timeline ", el("span", { class: "muted", id: "live" }, "")), timeline)));

          function keyCard(r, fresh) {
            return el("div", { class: fresh ? "card fresh" : "card", "data-key": r.key },
              el("div", {}, el("a", { href: `#/ns/${enc(ns)}/agent/${enc(agent)}/key/${enc(r.key)}` }, r.key),
                el("span", { class: "muted" }, `  v${r.version}  `), timeCell(r.committed_at, r.commit_ts)),
              jsonView(r.value));
          }
          // A live commit's operations update the key cards in place: the event carries the new values.
          function applyToKeys(event) {
            for (const op of event.operations) {
              if (op.agent_id !== agent) continue;
              const card = [...keys.querySelectorAll(".card[data-key]")].find(c => c.getAttribute("data-key") === op.key);
              if (op.op === "delete") { if (card) card.remove(); continue; }
              if (op.value_removed) continue;
              const fresh = keyCard({ key: op.key, version: op.version, value: op.value, committed_at: event.committed_at, commit_ts: event.commit_ts }, true);
              if (card) card.replaceWith(fresh); else keys.prepend(fresh);
            }
          }
          async function loadKeys(cursor) {
            const page = await api(`${base}/agents/${enc(agent)}/state?limit=100` + (cursor ? `&cursor=${enc(cursor)}` : ""));
            for (const r of page.items) keys.append(keyCard(r, false));
            if (page.items.length === 0 && !cursor) keys.append(el("p", { class: "muted" }, "No live keys."));
            if (page.next_cursor) {
              const more = el("button", { type: "button", onclick: async () => { more.remove(); await guarded(() => loadKeys(page.next_cursor)); } }, "More keys");
              keys.append(more);
            }
          }
          let oldest = null;
          async function loadTimeline() {
            const page = await api(`${base}/timeline?agent_id=${enc(agent)}&limit=50` + (oldest ? `&before=${oldest}` : ""));
            for (const event of page.items) timeline.append(commitCard(ns, event, false));
            oldest = page.next_before;
            if (oldest) {
              const more = el("button", { type: "button", onclick: async () => { more.remove(); await guarded(loadTimeline); } }, "Older commits");
              timeline.append(more);
            }
          }
          await Promise.all([loadKeys(null), loadTimeline()]);
          // Follow new commits live; the server resumes from Last-Event-ID if the connection drops.
          // The server ends the stream with a problem when it shuts down or this page fell behind; the stream then
          // reconnects by itself (Last-Event-ID, or from= the last id) and resumes after the last commit shown.
          const liveLabel = document.getElementById("live");
          live = follow(`${base}/watch?agent_id=${enc(agent)}&from=${head.commit_ts + 1}`, {
            open: () => { liveLabel.textContent = "· live"; },
            lost: () => { liveLabel.textContent = "· reconnecting…"; },
            commit: event => {
              if (timeline.querySelector(`[data-commit-ts="${event.commit_ts}"]`)) return;
              timeline.prepend(commitCard(ns, event, true));
              applyToKeys(event);
            },
          });
        }

        // Line diff (longest common subsequence) of two pretty-printed values, shown side by side.
        function diffLines(a, b) {
          const n = a.length, m = b.length;
          if (n * m > 4000000) return null;
          const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
          for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
            table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
          const rows = []; let i = 0, j = 0;
          while (i < n || j < m) {
            if (i < n && j < m && a[i] === b[j]) { rows.push([a[i], b[j], ""]); i++; j++; }
            else if (j < m && (i === n || table[i][j + 1] >= table[i + 1][j])) { rows.push([null, b[j], "add"]); j++; }
            else { rows.push([a[i], null, "del"]); i++; }
          }
          // Pair each run of removed lines with the run of added lines beside it, so a changed line sits next to
          // what replaced it.
          const paired = []; let k = 0;
          while (k < rows.length) {
            if (rows[k][2] === "") { paired.push(rows[k]); k++; continue; }
            const removed = [], added = [];
            while (k < rows.length && rows[k][2] !== "") { (rows[k][2] === "del" ? removed : added).push(rows[k]); k++; }
            for (let p = 0; p < Math.max(removed.length, added.length); p++) {
              paired.push([removed[p] ? removed[p][0] : null, added[p] ? added[p][1] : null, "change"]);
            }
          }
          return paired;
        }
        function pretty(record) {
          if (record.deleted) return "(deleted)";
          if (record.value_removed) return "(value removed by retention)";
          return JSON.stringify(record.value, null, 2);
        }
        function diffView(left, right) {
          const rows = diffLines(pretty(left).split("\n"), pretty(right).split("\n"));
          const grid = el("div", { class: "diff", id: "diff", role: "table", "aria-label": "Diff" },
            el("div", { class: "head" }, `version ${left.version}`), el("div", { class: "head" }, `version ${right.version}`));
          if (rows === null) { grid.append(el("pre", {}, "Too large to diff here."), el("pre", {}, "")); return grid; }
          for (const [l, r, kind] of rows) {
            const changed = kind === "change";
            grid.append(el("pre", { class: changed && l !== null ? "del" : "" }, l === null ? "" : (changed ? "- " : "  ") + l),
                        el("pre", { class: changed && r !== null ? "add" : "" }, r === null ? "" : (changed ? "+ " : "  ") + r));
          }
          return grid;
        }

        async function keyPage(ns, agent, key) {
          setCrumbs([["namespaces", "#/"], [ns, `#/ns/${enc(ns)}`], [agent, `#/ns/${enc(ns)}/agent/${enc(agent)}`], [key]]);
          const page = await api(`/v1/namespaces/${enc(ns)}/agents/${enc(agent)}/keys/${enc(key)}/history?limit=1000`);
          const versions = page.items;
          if (versions.length === 0) { setMain(el("h1", {}, `Key ${key}`), el("p", { class: "muted" }, "This key was never written.")); return; }
          const options = () => versions.map(v => el("option", { value: v.version }, `v${v.version} · ${when(v.committed_at)}${v.deleted ? " · deleted" : ""}`));
          const left = el("select", { id: "diff-left", "aria-label": "Older version" }, options());
          const right = el("select", { id: "diff-right", "aria-label": "Newer version" }, options());
          if (versions.length > 1) left.selectedIndex = 1;
          const diffBox = el("div", {});
          const byVersion = v => versions.find(r => String(r.version) === v);
          const showDiff = () => diffBox.replaceChildren(diffView(byVersion(left.value), byVersion(right.value)));
          left.addEventListener("change", showDiff); right.addEventListener("change", showDiff);
          setMain(el("h1", {}, `Key ${key}`),
            el("h2", {}, "Compare versions"),
            el("div", { class: "toolbar" }, el("label", {}, "From ", left), el("label", {}, "to ", right),
              el("button", { type: "button", id: "diff-button", onclick: showDiff }, "Diff")),
            diffBox,
            el("h2", {}, `History (${versions.length}${page.next_cursor ? "+" : ""} versions, newest first)`),
            versions.map(v => el("div", { class: "card", "data-version": v.version },
              el("div", {}, el("strong", {}, `v${v.version}`), "  ", timeCell(v.committed_at, v.commit_ts),
                v.metadata && v.metadata.actor ? el("span", {}, "  by ", el("strong", {}, v.metadata.actor)) : null,
                v.metadata && v.metadata.reason ? el("span", { class: "muted" }, "  " + v.metadata.reason) : null),
              v.deleted ? el("em", { class: "muted" }, "deleted") : v.value_removed ? el("em", { class: "muted" }, "value removed by retention") : jsonView(v.value))));
          showDiff();
        }

        // The daemon asks for a token: a form that keeps it for this tab, then shows the page again.
        function signInPage(reason) {
          setCrumbs([["sign in"]]);
          const input = el("input", { type: "password", name: "token", autocomplete: "off", placeholder: "tok_….secret", "aria-label": "Token", size: 70 });
          setMain(el("h1", {}, "This daemon requires a token"),
            el("p", { class: "muted" }, reason),
            el("p", {}, "Paste a token (", el("code", {}, "statehousectl token create --grant '*:read'"), "). It is kept in this tab only."),
            el("form", { onsubmit: event => {
              event.preventDefault();
              if (!input.value.trim()) return;
              sessionStorage.setItem(TOKEN_KEY, input.value.trim());
              signout.hidden = false;
              route();
            } }, input, " ", el("button", { type: "submit" }, "Use token")));
          input.focus();
        }

        // Follows a watch URL: EventSource without a token; with one (EventSource cannot send headers), a fetch whose
        // body is read as Server-Sent Events, resuming after the last id when the connection drops.
        function follow(url, handlers) {
          if (!token()) {
            const source = new EventSource(url);
            source.onopen = handlers.open;
            source.onerror = handlers.lost;
            source.addEventListener("problem", handlers.lost);
            source.addEventListener("commit", message => handlers.commit(JSON.parse(message.data)));
            return source;
          }
          const controller = new AbortController();
          let lastId = null;
          async function run(from) {
            try {
              const target = lastId === null ? url : url.replace(/from=\d+/, "from=" + (Number(lastId) + 1));
              const response = await fetch(target, { headers: authHeaders({ accept: "text/event-stream" }), signal: controller.signal });
              if (!response.ok) { handlers.lost(); return; }
              handlers.open();
              const reader = response.body.getReader();
              const decoder = new TextDecoder();
              let buffer = "";
              for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                buffer += decoder.decode(value, { stream: true });
                let end;
                while ((end = buffer.indexOf("\n\n")) >= 0) {
                  const block = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  let type = "message", data = "";
                  for (const line of block.split("\n")) {
                    if (line.startsWith("id: ")) lastId = line.slice(4);
                    else if (line.startsWith("event: ")) type = line.slice(7);
                    else if (line.startsWith("data: ")) data += line.slice(6);
                  }
                  if (type === "commit") handlers.commit(JSON.parse(data));
                  else if (type === "problem") handlers.lost();
                }
              }
            } catch (e) {
              if (controller.signal.aborted) return;
            }
            handlers.lost();
            if (!controller.signal.aborted) setTimeout(() => { if (!controller.signal.aborted) run(); }, 1000);
          }
          run();
          return { close: () => controller.abort() };
        }

        async function guarded(work) {
          try { clearError(); await work(); }
          catch (e) {
            if (e instanceof Unauthorized) signInPage(e.message);
            else showError(e.message || "Something went wrong.");
          }
        }

        function route() {
          if (live) { live.close(); live = null; }
          const parts = location.hash.replace(/^#\/?/, "").split("/").filter(p => p.length).map(decodeURIComponent);
          setMain(el("p", { class: "muted" }, "Loading…"));
          guarded(async () => {
            if (parts.length === 0) return namespacesPage();
            if (parts[0] === "ns" && parts.length === 2) return agentsPage(parts[1]);
            if (parts[0] === "ns" && parts[2] === "agent" && parts.length === 4) return agentPage(parts[1], parts[3]);
            if (parts[0] === "ns" && parts[2] === "search" && parts.length === 4) return searchPage(parts[1], parts[3]);
            if (parts[0] === "ns" && parts[2] === "agent" && parts[4] === "key" && parts.length === 6) return keyPage(parts[1], parts[3], parts[5]);
            setMain(el("h1", {}, "Not found"), el("p", {}, el("a", { href: "#/" }, "Back to the namespaces")));
          });
        }
        window.addEventListener("hashchange", route);
        route();
        """#
}

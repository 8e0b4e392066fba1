extension ConsoleAssets {
    static let style = #"""
        :root { --fg: #1d2330; --muted: #667085; --line: #d9dee8; --accent: #2754c5; --bg: #f7f8fb; --ok: #137a3a;
                --bad: #b42318; --add: #e6f4ea; --del: #fdecea; font-family: system-ui, sans-serif; font-size: 15px; }
        body { margin: 0; color: var(--fg); background: var(--bg); }
        #signout { margin-left: auto; }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.5rem; background: #fff;
                 border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        nav a { color: var(--accent); } nav span.sep { color: var(--muted); margin: 0 .4rem; }
        main { padding: 1rem 1.5rem; max-width: 1400px; }
        h1 { font-size: 1.3rem; margin: .2rem 0 1rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; }
        a { color: var(--accent); } a:focus, button:focus, select:focus, summary:focus { outline: 3px solid #9db4f0; outline-offset: 1px; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; color: var(--muted); font-weight: 600; }
        .muted { color: var(--muted); } .mono, code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
        .cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; }
        @media (max-width: 1000px) { .cols { grid-template-columns: 1fr; } }
        button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
        button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
        #error { margin: 1rem 1.5rem 0; padding: .6rem .8rem; background: var(--del); border: 1px solid var(--bad); color: var(--bad); border-radius: 4px; }
        .ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: .6rem .8rem; margin-bottom: .6rem; }
        .card.fresh { border-color: var(--accent); box-shadow: 0 0 0 2px #c9d6f7; }
        .json { margin: 0; white-space: pre-wrap; word-break: break-word; }
        .json details { display: inline; } .json details > summary { display: inline; cursor: pointer; color: var(--muted); }
        .json .k { color: #7a3e9d; } .json .s { color: #0b6e4f; } .json .n { color: #9a5b00; } .json .b { color: #2754c5; }
        .json .indent { display: block; padding-left: 1.2rem; }
        .diff { display: grid; grid-template-columns: 1fr 1fr; border: 1px solid var(--line); background: #fff; }
        .diff pre { margin: 0; padding: 0 .4rem; min-height: 1.2em; white-space: pre-wrap; word-break: break-word; }
        .diff .del { background: var(--del); } .diff .add { background: var(--add); }
        .diff .head { font-weight: 600; padding: .3rem .4rem; border-bottom: 1px solid var(--line); background: var(--bg); }
        .toolbar { display: flex; gap: .6rem; align-items: center; margin: .4rem 0 .8rem; flex-wrap: wrap; }
        input[type=search] { font: inherit; padding: .3rem .5rem; min-width: 24rem; border: 1px solid var(--line); border-radius: 4px; }
        mark { background: #fff2a8; }
        .op { margin: .2rem 0; } .tag { display: inline-block; padding: 0 .35rem; border-radius: 3px; background: var(--bg);
              border: 1px solid var(--line); font-size: .8rem; }
        """#
}

package dev.anvil.api.ui;

import java.util.Locale;

/** HTML escaping and the page frame shared by the reviewer UI's server-rendered pages. */
final class Html {
    private Html() {
    }

    static String esc(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String num(Object v) {
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return String.format(Locale.ROOT, "%,d", (long) d);
            }
            return String.format(Locale.ROOT, "%.4g", d);
        }
        return v == null ? "–" : esc(v);
    }

    /** A whole page: title, navigation (with who is signed in), the body, and an optional auto-refresh. */
    static String page(String title, String who, String body, boolean refresh) {
        return """
                <!doctype html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                %s
                <title>%s · Anvil</title>
                <link rel="stylesheet" href="/ui/style.css">
                </head>
                <body>
                <a class="skip" href="#main">Skip to content</a>
                <header><nav aria-label="Main">
                  <strong>Anvil</strong>
                  <a href="/ui/approvals">Approvals</a> <a href="/ui/runs">Runs</a> <a href="/ui/models">Models</a>
                  <span class="who">%s</span>
                </nav></header>
                <main id="main">
                <h1>%s</h1>
                %s
                </main>
                </body>
                </html>
                """.formatted(refresh ? "<meta http-equiv=\"refresh\" content=\"5\">" : "", esc(title),
                who == null ? "<a href=\"/ui/login\">Sign in</a>"
                        : "Signed in as <b data-testid=\"who\">" + esc(who) + "</b> <form method=\"post\" action=\"/ui/logout\" class=\"inline\"><button>Sign out</button></form>",
                esc(title), body);
    }

    static String stateBadge(String state) {
        return "<span class=\"badge " + esc(state) + "\">" + esc(state == null ? "" : state.replace('_', ' ')) + "</span>";
    }
}

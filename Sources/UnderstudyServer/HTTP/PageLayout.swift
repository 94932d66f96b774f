/// The frame of Understudy's server-rendered pages (the consent page, sign-in, host pages): one
/// style, no script of its own; every value put in `body` must already be escaped.
enum PageLayout {
    static func document(title: String, body: String, style: String = "") -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escape(title)) · Understudy</title>
        <style>
        body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #172b4d; }
        h1 { font-size: 1.4rem; }
        label { display: block; margin: .75rem 0; }
        input[type=email], input[type=password] { display: block; width: 100%; padding: .4rem; font: inherit; }
        .actions { display: flex; gap: 1rem; margin-top: 1rem; }
        button { font: inherit; padding: .4rem 1.2rem; }
        .problem { color: #ae2a19; font-weight: bold; }
        \(style)
        code { background: #f1f2f4; padding: 0 .2rem; }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>
        """
    }
}

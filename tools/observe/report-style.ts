// The report's style sheet: readable on a phone (viewport-sized text, tables and charts that
// scroll sideways), numbers right-aligned, success rates coloured.
export const REPORT_STYLE = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--bg2:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem;max-width:1100px;color:var(--fg);line-height:1.4;font-size:15px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
.sub,.muted{color:var(--muted)}.muted{font-size:.85em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;margin:.3rem 0;min-width:100%}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
thead th{background:var(--bg2);white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.overview td.name{min-width:14rem}.overview a{font-weight:600}
.rate{display:inline-block;padding:.05rem .4rem;border-radius:.3rem;font-weight:600}
.rate.good{background:#dafbe1;color:#116329}.rate.warn{background:#fff8c5;color:#7d4e00}.rate.bad{background:#ffebe9;color:#a40e26}
.banner{background:#fff8c5;border:2px solid #d4a72c;border-radius:.4rem;padding:.7rem .9rem;margin:1rem 0}
.banner code{white-space:nowrap;word-break:normal}
.unread-key{background:#eee;padding:0 .3rem}
figure{margin:.6rem 0}figcaption{font-size:.9rem;font-weight:600;margin-bottom:.2rem}
svg.chart{width:100%;min-width:520px;height:auto;display:block}
svg.chart text{font-size:13px;fill:var(--fg)}svg.chart text.muted{fill:var(--muted);font-size:12px}
svg.chart .grid{stroke:#e6e6e6}svg.chart .base{stroke:#888}svg.chart .axis-title{font-size:12px;fill:var(--muted)}
svg.chart .partial{fill:none;stroke:#999;stroke-dasharray:3 3}svg.chart .peak-label{font-weight:600}svg.chart .note{fill:var(--muted)}
.key{font-size:.85rem;margin:.2rem 0}.key>span{margin-right:.6rem;white-space:nowrap}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:-1px;margin-right:.25rem}
.unread-swatch{background:repeating-linear-gradient(45deg,#f3f3f3 0 3px,#c8c8c8 3px 5px)}
.event{font-weight:400;color:var(--muted);font-size:.9rem}
.facts{font-size:.9rem}
a.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;white-space:nowrap}
tr.empty td{color:var(--muted)}tr.unread td{background:#f3f3f3;color:var(--muted)}
td.ids code{font-size:.75rem;display:block;white-space:nowrap;word-break:normal}
table.periods td:first-child{white-space:nowrap}
details{margin:.5rem 0}summary{cursor:pointer;font-weight:600;font-size:.9rem}
@media (max-width:600px){body{padding:.6rem;font-size:14px}th,td{padding:.3rem .35rem}.overview td.name{min-width:10rem}}
`

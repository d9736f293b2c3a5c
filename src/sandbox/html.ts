/** Escapes text for HTML element and attribute content. */
export function escapeHtml(value: unknown): string {
  return String(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** A minimal page shell; the sandbox's pages are plain forms without scripts. */
export function htmlPage(title: string, body: string, accent = '#334'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
header{border-bottom:4px solid ${accent};margin-bottom:1rem}h1{font-size:1.4rem}
label{display:block;margin:.6rem 0 .2rem}input,select{padding:.4rem;width:100%;box-sizing:border-box}
input[type=checkbox]{width:auto}button{padding:.5rem 1.2rem;margin:.8rem .5rem 0 0}
.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem}.hint{color:#666;font-size:.9rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
</style></head><body>${body}</body></html>`;
}

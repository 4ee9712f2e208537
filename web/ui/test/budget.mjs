// Fails when the first view's JS + CSS (gzipped, as served) exceeds the budget of docs/ui.md.
// Usage: node test/budget.mjs BUNDLE_SIZE_JSON MAX_BYTES   (bundle-size.json from build.mjs)
import { readFileSync } from 'node:fs';

const [file, max] = process.argv.slice(2);
const size = JSON.parse(readFileSync(file, 'utf8'));
const total = size.first_view_gzip_bytes;
console.log(`first view: JS ${size.js_gzip_bytes} + CSS ${size.css_gzip_bytes} = ${total} bytes gzipped (budget ${max})`);
if (!(total > 0) || total > Number(max)) {
  console.error(`the admin page's first view is ${total} bytes gzipped, over its budget of ${max}`);
  process.exit(1);
}

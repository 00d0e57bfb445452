// `npm start`: bundles the local host (src/http/serve-local.ts) with esbuild into dist/start/ and
// runs it in this same process, so that the banner's "started in" counts the build as well. The
// build is skipped when no input of the last one (its metafile, kept beside the bundle) changed
// since: a start on an unchanged tree only loads the bundle. (Plain JavaScript: tsx would cost
// more at every start than the whole build.)
import { build } from 'esbuild'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = join(import.meta.dirname, '..', '..')
const OUT = join(ROOT, 'dist', 'start')
const ENTRY = join(OUT, 'serve-local.js')
const META = join(OUT, 'inputs.json')
const OPTIONS = {
  absWorkingDir: ROOT,
  entryPoints: ['src/http/serve-local.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  // node_modules are loaded from node_modules at run time, as in the tsc output.
  packages: 'external',
  splitting: true,
  outdir: OUT,
  metafile: true,
  logLevel: 'warning',
}

/** Whether the bundle was built with these options after every file it was built from changed. */
function upToDate() {
  try {
    const builtAt = statSync(ENTRY).mtimeMs
    const last = JSON.parse(readFileSync(META, 'utf8'))
    if (last.options !== JSON.stringify(OPTIONS)) return false
    return last.inputs.every((input) => statSync(join(ROOT, input)).mtimeMs < builtAt)
  } catch {
    return false // no bundle yet, or a file of the last build is gone
  }
}

if (!upToDate()) {
  const { metafile } = await build(OPTIONS)
  const inputs = Object.keys(metafile.inputs)
  writeFileSync(META, JSON.stringify({ options: JSON.stringify(OPTIONS), inputs }))
}
await import(pathToFileURL(ENTRY).href)

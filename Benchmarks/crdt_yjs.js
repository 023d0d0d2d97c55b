// Yjs side of Benchmarks/compare.sh (node, Debian's node-yjs): same workloads as crdt_pycrdt.py.
const Y = require('yjs')

const value = (index) => `${1000 + index % 977}.5 t as of 2026-11-${String(1 + index % 28).padStart(2, '0')}`

function apply (updates, keys) {
  const source = new Y.Doc()
  const sourceMap = source.getMap('reserves')
  const produced = []
  source.on('update', (update) => produced.push(update))
  for (let index = 0; index < updates; index++) sourceMap.set(`site-${index % keys}`, value(index))
  // Median of 5 passes, each into a fresh doc (as crdt_pycrdt.py and mineral-bench do).
  const times = []
  for (let pass = 0; pass < 5; pass++) {
    const target = new Y.Doc()
    const targetMap = target.getMap('reserves')
    const start = process.hrtime.bigint()
    for (const update of produced) Y.applyUpdate(target, update)
    times.push(Number(process.hrtime.bigint() - start) / 1e9)
    if (targetMap.size !== keys) throw new Error('wrong size')
  }
  times.sort((a, b) => a - b)
  return { updates, keys, passes: 5, per_s: Math.round(updates / times[2]) }
}

function catchup (overwrites, keys) {
  const a = new Y.Doc()
  const aMap = a.getMap('reserves')
  for (let index = 0; index < overwrites; index++) aMap.set(`site-${index % keys}`, value(index))
  const b = new Y.Doc()
  b.getMap('reserves')
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  aMap.set('site-0', value(overwrites))
  const missing = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b))
  return { missing_update_bytes: missing.length, state_vector_bytes: Y.encodeStateVector(b).length, full_state_bytes: Y.encodeStateAsUpdate(a).length }
}

const [updates, overwrites, keys] = process.argv.slice(2).map(Number)
console.log(JSON.stringify({ apply: apply(updates, keys), catchup: catchup(overwrites, keys) }))

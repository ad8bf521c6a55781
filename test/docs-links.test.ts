/**
 * Every relative link in the README, docs/ and bench/README.md points at a file of the repository
 * (and, with a #fragment, at a heading of that file): a reader never follows a dead link.
 */
import { strict as assert } from 'node:assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { test } from 'node:test'

const root = join(__dirname, '..')
const documents = ['README.md', 'bench/README.md', 'CHANGELOG.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)]
  .filter((path) => existsSync(join(root, path)))

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`. */
function anchors (markdown: string): Set<string> {
  const result = new Set<string>()
  let inFence = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence
    const heading = inFence ? null : /^#{1,6} (.+)$/.exec(line)
    if (heading !== null) result.add(heading[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'))
  }
  return result
}

function withoutCode (markdown: string): string {
  return markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
}

test('relative links in the docs resolve to files and headings', () => {
  const dead: string[] = []
  for (const document of documents) {
    const text = readFileSync(join(root, document), 'utf8')
    for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue
      const [path, fragment] = target.split('#')
      const file = path === '' ? join(root, document) : join(root, dirname(document), path)
      if (!existsSync(file)) { dead.push(`${document}: ${target} (no such file)`); continue }
      if (fragment !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(fragment)) {
        dead.push(`${document}: ${target} (no heading #${fragment} in ${relative(root, file)})`)
      }
    }
  }
  assert.deepEqual(dead, [])
})

test('the docs name no document outside the repository', () => {
  for (const document of documents) {
    const text = readFileSync(join(root, document), 'utf8')
    assert.doesNotMatch(text, /UPSTREAM\.md|DESIGN\.md|CONVENTIONS\.md|\.\.\/shared\//, document)
  }
})

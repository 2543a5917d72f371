// /docs: the sidebar's search keeps the contents entries whose text has every typed word.
(function () {
  const input = document.getElementById('search')
  if (!input) return
  const entries = Array.from(document.querySelectorAll('#sidebar li[data-text]'))
  const groups = Array.from(document.querySelectorAll('#sidebar li.group'))
  function filter() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean)
    for (const entry of entries) {
      const text = entry.getAttribute('data-text')
      const hit = words.every((w) => text.includes(w))
      entry.classList.toggle('hidden', !hit)
    }
    for (const group of groups) {
      const shown = group.querySelectorAll('li[data-text]:not(.hidden)').length
      group.classList.toggle('hidden', words.length > 0 && shown === 0)
    }
  }
  input.addEventListener('input', filter)
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return
    const first = entries.find((e) => !e.classList.contains('hidden'))
    const link = first && first.querySelector('a')
    if (link) window.location.hash = link.getAttribute('href')
  })
})()

// One message: a reply template fills the reply box, the box counts its characters, and
// keys act on the message (c claim, e outcome, a assign, r reply, u back to the inbox).
(function () {
  'use strict';
  const inbox = document.currentScript.dataset.inboxUrl;
  const pick = document.getElementById('id_template'), text = document.getElementById('id_text');
  const count = document.getElementById('reply-count');
  function show() { if (text && count) count.textContent = text.value.length + (text.maxLength > 0 ? ' of ' + text.maxLength : '') + ' characters'; }
  if (pick && text) pick.addEventListener('change', function () { if (pick.value) { text.value = pick.value; show(); text.focus(); } });
  if (text) { text.addEventListener('input', show); show(); }
  document.addEventListener('keydown', function (e) {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName)) return;
    const work = document.getElementById('work');
    if (e.key === 'c' && work) { const b = work.querySelector('button[value=claim]'); if (b) b.click(); }
    else if (e.key === 'e') { const o = document.getElementById('id_outcome'); if (o) { e.preventDefault(); o.focus(); } }
    else if (e.key === 'u') { window.location = inbox; }
    else if (e.key === 'a') { const s = document.getElementById('id_assignee'); if (s) { e.preventDefault(); s.focus(); } }
    else if (e.key === 'r') { const t = document.getElementById('id_text'); if (t) { e.preventDefault(); t.focus(); } }
  });
})();

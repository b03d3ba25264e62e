// Writing a post: choosing a template fills the text, the kind and the review date.
(function () {
  'use strict';
  const templates = JSON.parse(document.getElementById('post-templates').textContent);
  const pick = document.getElementById('id_template');
  pick.addEventListener('change', function () {
    const t = templates[pick.value];
    if (!t) return;
    const text = document.getElementById('id_text');
    if (text.value.trim() && !confirm('Replace what you have written with the template?')) return;
    text.value = t.text;
    document.getElementById('id_kind').value = t.kind;
    document.getElementById('template-note').textContent = t.note;
    if (t.review_days) {
      const d = new Date(Date.now() + t.review_days * 86400000);
      document.getElementById('id_review_on').value = d.toISOString().slice(0, 10);
    }
    text.focus();
  });
})();

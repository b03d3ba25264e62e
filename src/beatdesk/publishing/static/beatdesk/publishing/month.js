// The publishing calendar: the arrow keys go to the previous and next month.
document.addEventListener('keydown', function (e) {
  if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName) || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === 'ArrowLeft') document.getElementById('prev-month').click();
  if (e.key === 'ArrowRight') document.getElementById('next-month').click();
});

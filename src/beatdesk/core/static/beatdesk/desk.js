// Behaviour on every page: the keyboard help and print buttons. Loaded as a file, never
// inline: the Content-Security-Policy runs no inline script without the request's nonce.
(function () {
  'use strict';
  document.addEventListener('keydown', function (e) {
    if (e.key !== '?' || ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName)) return;
    const help = document.getElementById('keys-help');
    if (help && !help.open) { e.preventDefault(); help.showModal(); }
  });
  document.addEventListener('click', function (e) {
    if (e.target.closest('[data-print]')) window.print();
  });
})();

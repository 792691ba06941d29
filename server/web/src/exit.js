// Quick exit: the button and the Esc key replace this page with a neutral site. location.replace
// swaps the current history entry, so Back does not return here.
const link = document.getElementById('keluar');
const target = (link && link.dataset.to) || 'https://www.bmkg.go.id/';

function leave(event) {
  if (event) event.preventDefault();
  // Hide what is on the screen at once, before the neutral page has loaded.
  document.documentElement.style.display = 'none';
  document.title = '';
  window.location.replace(target);
}

if (link) link.addEventListener('click', leave);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' || e.key === 'Esc') leave(e);
});

// Entry point. Loads the app with a dynamic import, so a module that cannot load (a missing
// vendor file, say) is reported on the page instead of leaving it silently at "Loading…".
const status = document.getElementById('status');

import('./main.js')
  .then((main) => main.start())
  .catch((error) => {
    status.classList.add('error');
    status.textContent = `The app failed to start: ${error.message}`;
    console.error(error);
  });

'use strict';
// On a laptop-sized window the admin's navigation sidebar starts closed, so a list has the
// width it needs beside its filters (the lists are laid out for 1366 px without it). The «
// button still opens it, and the admin remembers that choice (admin/js/nav_sidebar.js, which
// runs after this script: it is deferred). Wide screens keep Django's default, the sidebar open.
{
    const key = 'django.admin.navSidebarIsOpen';  // Django's own key, read by nav_sidebar.js.
    const roomForSidebarAndList = 1700;  // 1366 px of list and filters, plus the sidebar's 300.
    if (localStorage.getItem(key) === null && window.innerWidth < roomForSidebarAndList) {
        localStorage.setItem(key, 'false');
    }
}

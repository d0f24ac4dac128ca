/*
 * Removable media: where an operator's backup and startup disk are likely
 * to be (media.c). Nothing here opens or reads what it finds.
 */
#ifndef KMSRECOVER_MEDIA_H
#define KMSRECOVER_MEDIA_H

/* Backups found on removable media, NULL-terminated (xfree_argv after). */
char **media_find_backups(void);
/* The media's folders (/media/usb, /run/media/USER/LABEL): where a startup disk may go. */
char **media_find_folders(void);
/* Whether a file's name looks like a backup archive (*.tar, *.tar.*, *.zip, *.7z, ...). */
int media_is_archive_name(const char *name);
/* The folders searched: KMSRECOVER_MEDIA_ROOTS or /media, /run/media, /mnt. NULL-terminated. */
char **media_roots(void);

#endif

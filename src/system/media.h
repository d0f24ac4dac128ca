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
/*
 * The name of the medium path is on, for the operator to tell two disks
 * apart: its file system's label (FS_IOC_GETFSLABEL, else udev's
 * /dev/disk/by-label), else the medium's folder under a media root
 * (/media/LABEL, /run/media/USER/LABEL). NULL when none is known.
 */
char *media_label(const char *path);
/* The folders searched: KMSRECOVER_MEDIA_ROOTS or /media, /run/media, /mnt. NULL-terminated. */
char **media_roots(void);

#endif

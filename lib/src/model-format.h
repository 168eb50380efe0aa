/* libdae — the on-disk model format (.dae), version 1.4
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * All integers and floats are little-endian; floats are IEEE-754 binary32.
 * Only model-io.c converts byte order; the tests use the offsets below to
 * craft corrupt files.
 *
 * Layout:
 *
 *   header          DAE_FORMAT_HEADER_SIZE bytes (header_size field, >= 128)
 *   record table    n_records * DAE_FORMAT_RECORD_SIZE bytes, right after
 *                   the header
 *   payloads        each at a 64-byte aligned offset, in record order,
 *                   without overlap; padding bytes are zero when written and
 *                   ignored when read.  The file ends with the last payload.
 *
 * Header (offsets in bytes):
 *
 *     0  u8[8]  magic "DAEMODL\0"
 *     8  u16    major version (1; other majors are refused)
 *    10  u16    minor version (4; files of minors 0 to 3 and of higher
 *               minors of major 1 are read)
 *    12  u32    header size (128)
 *    16  u64    total file size in bytes
 *    24  u32    CRC-32 (IEEE 802.3, as zlib's crc32) of the whole file with
 *               these four bytes taken as zero
 *    28  u32    sample rate (Hz)
 *    32  u32    window samples
 *    36  u32    hop samples
 *    40  u32    n_bands
 *    44  u32    enc_dense
 *    48  u32    enc_gru
 *    52  u32    bottleneck
 *    56  u32    dec_gru
 *    60  u32    flags (DAE_FORMAT_FLAG_*; unknown bits are refused)
 *    64  f32    anomaly threshold (< 0: not calibrated; must be finite)
 *    68  u32    n_records (at most DAE_FORMAT_MAX_RECORDS)
 *   since 1.1 (reserved, zero and ignored in 1.0 files): how the anomaly
 *   threshold was calibrated (DaeAnomalyCalibration), all 0 if unknown:
 *    72  f32    threshold quantile, 0 (unknown) or in (0, 1)
 *    76  f32    false alarms per hour on held-out normal audio, >= 0
 *    80  f32    seconds of held-out normal audio scored, >= 0
 *    84  f32    hold in seconds used when counting false alarms, >= 0
 *   since 1.4 (reserved, zero and ignored before: the scale is 1 then):
 *    88  f32    gain scale, 1 to 2 (dae_model_get_gain_scale())
 *    92  ...    reserved, zero when written, ignored when read
 *
 * Record (DAE_FORMAT_RECORD_SIZE = 64 bytes):
 *
 *     0  char[32] name, NUL-padded, contains at least one NUL, non-empty
 *    32  u32      dtype (DAE_FORMAT_DTYPE_*)
 *    36  u32      ndim (1 or 2)
 *    40  u32[2]   shape; shape[1] is 0 when ndim is 1
 *    48  u64      payload size in bytes = product of shape * element size
 *    56  u64      payload offset from the start of the file (64-aligned)
 *
 * Records of version 1.0, in the order the writer emits them:
 *
 *   "bands.centers"  f32 [n_bands]   band centres in Hz, strictly increasing,
 *                                    >= 0 and below sample_rate / 2
 *   "norm.mean"      f32 [n_bands]   mean of log10 band energy (since 1.2
 *                                    with DAE_FORMAT_FLAG_TONALITY: f32
 *                                    [2 n_bands], then of band tonality)
 *   "norm.std"       f32 [n_bands]   its standard deviation, > 0 (the same)
 *   "info"           utf8 [n_bytes]  free text, no NUL, < DAE_MODEL_INFO_MAX
 *                                    bytes (optional: "" when absent)
 *   then every tensor of dae_model_list_tensors() as f32 [rows, cols]
 *   (biases are [rows, 1]), for example "enc_gru.w" [3 * enc_gru, enc_dense].
 *   Since 1.3 the tensors may instead all be f16 (IEEE-754 binary16; all or
 *   none: dae_model_get_weight_bits() says which); the other records stay
 *   f32.  1.2 readers refuse such files (unknown dtype).
 *
 * Since 1.1, last, only with DAE_FORMAT_FLAG_ERROR_SCALE:
 *
 *   "score.scale"    f32 [n_bands]   band error divisors, finite, > 0
 *                                    (dae_model_get_band_error_scale())
 *
 * Every float must be finite.  Readers ignore records with unknown names
 * (minor versions may add some) but still check their bounds.
 */

#ifndef DAE_MODEL_FORMAT_H
#define DAE_MODEL_FORMAT_H

#define DAE_FORMAT_MAGIC                "DAEMODL"       /* + NUL = 8 bytes */
#define DAE_FORMAT_MAGIC_SIZE           8
#define DAE_FORMAT_VERSION_MAJOR        1
#define DAE_FORMAT_VERSION_MINOR        4

#define DAE_FORMAT_HEADER_SIZE          128
#define DAE_FORMAT_RECORD_SIZE          64
#define DAE_FORMAT_ALIGN                64
#define DAE_FORMAT_MAX_RECORDS          1024
#define DAE_FORMAT_NAME_SIZE            32

/* header field offsets */
#define DAE_FORMAT_OFF_MAGIC            0
#define DAE_FORMAT_OFF_MAJOR            8
#define DAE_FORMAT_OFF_MINOR            10
#define DAE_FORMAT_OFF_HEADER_SIZE      12
#define DAE_FORMAT_OFF_FILE_SIZE        16
#define DAE_FORMAT_OFF_CRC              24
#define DAE_FORMAT_OFF_SAMPLE_RATE      28
#define DAE_FORMAT_OFF_WINDOW           32
#define DAE_FORMAT_OFF_HOP              36
#define DAE_FORMAT_OFF_N_BANDS          40
#define DAE_FORMAT_OFF_ENC_DENSE        44
#define DAE_FORMAT_OFF_ENC_GRU          48
#define DAE_FORMAT_OFF_BOTTLENECK       52
#define DAE_FORMAT_OFF_DEC_GRU          56
#define DAE_FORMAT_OFF_FLAGS            60
#define DAE_FORMAT_OFF_THRESHOLD        64
#define DAE_FORMAT_OFF_N_RECORDS        68
#define DAE_FORMAT_OFF_CALIB_QUANTILE   72
#define DAE_FORMAT_OFF_CALIB_ALARMS     76
#define DAE_FORMAT_OFF_CALIB_SECONDS    80
#define DAE_FORMAT_OFF_CALIB_HOLD       84
#define DAE_FORMAT_OFF_GAIN_SCALE       88       /* since 1.4 */
#define DAE_FORMAT_OFF_RESERVED         92

/* record field offsets (relative to the record) */
#define DAE_FORMAT_REC_NAME             0
#define DAE_FORMAT_REC_DTYPE            32
#define DAE_FORMAT_REC_NDIM             36
#define DAE_FORMAT_REC_SHAPE0           40
#define DAE_FORMAT_REC_SHAPE1           44
#define DAE_FORMAT_REC_BYTE_SIZE        48
#define DAE_FORMAT_REC_OFFSET           56

#define DAE_FORMAT_DTYPE_F32            1
#define DAE_FORMAT_DTYPE_UTF8           2
#define DAE_FORMAT_DTYPE_F16            3       /* since 1.3, tensors only */

#define DAE_FORMAT_FLAG_HAS_VAD         (1u << 0)
#define DAE_FORMAT_FLAG_GAIN_SKIP       (1u << 1)
/* since 1.1: the network's input is the previous frame's features
 * (DaeModelConfig.predictive); 1.0 readers refuse such files (unknown flag),
 * as they could not score them correctly */
#define DAE_FORMAT_FLAG_PREDICTIVE      (1u << 2)
/* since 1.1: the file has a "score.scale" record (band error divisors that
 * are not all 1); it is required with the flag and refused without it, and
 * 1.0 readers refuse the file rather than score it on another scale */
#define DAE_FORMAT_FLAG_ERROR_SCALE     (1u << 3)
/* since 1.2: the network also sees band tonality (DaeModelConfig.tonality):
 * "norm.mean" and "norm.std" hold 2 n_bands values (band energies, then
 * tonality) and the input layers are that much wider; 1.1 readers refuse
 * the file */
#define DAE_FORMAT_FLAG_TONALITY        (1u << 4)
#define DAE_FORMAT_FLAGS_KNOWN          (DAE_FORMAT_FLAG_HAS_VAD \
    | DAE_FORMAT_FLAG_GAIN_SKIP | DAE_FORMAT_FLAG_PREDICTIVE \
    | DAE_FORMAT_FLAG_ERROR_SCALE | DAE_FORMAT_FLAG_TONALITY)

#define DAE_FORMAT_NAME_BAND_CENTERS    "bands.centers"
#define DAE_FORMAT_NAME_NORM_MEAN       "norm.mean"
#define DAE_FORMAT_NAME_NORM_STD        "norm.std"
#define DAE_FORMAT_NAME_INFO            "info"
#define DAE_FORMAT_NAME_ERROR_SCALE     "score.scale"

#endif /* DAE_MODEL_FORMAT_H */

"""mx.rnn.io: sentence encoding and the bucketing iterator of MXNet 1.x."""
import bisect
import random

import numpy as np

from ..io.io import DataIter, DataBatch, DataDesc
from .. import ndarray as nd


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0,
                     unknown_token=None):
    """Map words to integer ids. With vocab None a vocabulary is built (ids from start_label,
    skipping invalid_label); with a vocab, unknown words take unknown_token's id (added to the
    vocab if new) or raise KeyError without one. Returns (encoded sentences, vocab)."""
    idx = start_label
    if vocab is None:
        vocab = {invalid_key: invalid_label}
        new_vocab = True
    else:
        new_vocab = False
    res = []
    for sent in sentences:
        coded = []
        for word in sent:
            if word not in vocab:
                if not new_vocab and unknown_token is None:
                    raise KeyError("encode_sentences: unknown word %r and no unknown_token" % (word,))
                if idx == invalid_label:
                    idx += 1
                if unknown_token is not None and not new_vocab:
                    word = unknown_token
                    if word not in vocab:
                        vocab[word] = idx
                        idx += 1
                else:
                    vocab[word] = idx
                    idx += 1
            coded.append(vocab[word])
        res.append(coded)
    return res, vocab


class BucketSentenceIter(DataIter):
    """Batches of equal-length (padded) sentences from buckets; label = data shifted by one.
    Each batch's bucket_key is its bucket length (for BucketingModule)."""

    def __init__(self, sentences, batch_size, buckets=None, invalid_label=-1, data_name="data",
                 label_name="softmax_label", dtype="float32", layout="NT"):
        super().__init__(batch_size)
        if not buckets:
            lengths = np.bincount([len(s) for s in sentences])
            buckets = [i for i, j in enumerate(lengths) if j >= batch_size]
        buckets = sorted(buckets)
        if not buckets:
            raise ValueError("BucketSentenceIter: no bucket holds batch_size=%d sentences; pass buckets"
                             % batch_size)
        ndiscard = 0
        self.data = [[] for _ in buckets]
        for sent in sentences:
            b = bisect.bisect_left(buckets, len(sent))
            if b == len(buckets):
                ndiscard += 1
                continue
            buff = np.full((buckets[b],), invalid_label, dtype=dtype)
            buff[:len(sent)] = sent
            self.data[b].append(buff)
        self.data = [np.asarray(i, dtype=dtype) for i in self.data]
        self.ndiscard = ndiscard
        self.batch_size = batch_size
        self.buckets = buckets
        self.data_name = data_name
        self.label_name = label_name
        self.dtype = dtype
        self.invalid_label = invalid_label
        self.nddata = []
        self.ndlabel = []
        self.major_axis = layout.find("N")
        self.layout = layout
        self.default_bucket_key = max(buckets)
        shape = (batch_size, self.default_bucket_key) if self.major_axis == 0 else \
            (self.default_bucket_key, batch_size)
        self.provide_data = [DataDesc(data_name, shape, dtype, layout=layout)]
        self.provide_label = [DataDesc(label_name, shape, dtype, layout=layout)]
        self.idx = []
        for i, buck in enumerate(self.data):
            self.idx.extend([(i, j) for j in range(0, len(buck) - batch_size + 1, batch_size)])
        self.curr_idx = 0
        self.reset()

    def reset(self):
        self.curr_idx = 0
        random.shuffle(self.idx)
        for buck in self.data:
            np.random.shuffle(buck)
        self.nddata = []
        self.ndlabel = []
        for buck in self.data:
            label = np.empty_like(buck)
            if buck.size:
                label[:, :-1] = buck[:, 1:]
                label[:, -1] = self.invalid_label
            self.nddata.append(nd.array(buck, dtype=self.dtype))
            self.ndlabel.append(nd.array(label, dtype=self.dtype))

    def next(self):
        if self.curr_idx == len(self.idx):
            raise StopIteration
        i, j = self.idx[self.curr_idx]
        self.curr_idx += 1
        if self.major_axis == 1:
            data = self.nddata[i][j:j + self.batch_size].T
            label = self.ndlabel[i][j:j + self.batch_size].T
        else:
            data = self.nddata[i][j:j + self.batch_size]
            label = self.ndlabel[i][j:j + self.batch_size]
        return DataBatch([data], [label], pad=0, bucket_key=self.buckets[i],
                         provide_data=[DataDesc(self.data_name, data.shape, self.dtype, layout=self.layout)],
                         provide_label=[DataDesc(self.label_name, label.shape, self.dtype, layout=self.layout)])
